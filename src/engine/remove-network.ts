import type { EngineClient } from './engine-client.js';
import { EngineError } from './engine-error.js';
import { errorMessage } from '../shared/errors.js';

/**
 * Removes a network even when a container is still attached to it (a berth container that
 * died while joined to a job network for a health check): detaches everything first. When the
 * removal fails, its error also names the containers that could not be detached.
 */
export async function removeNetworkForcefully(
  engine: Pick<EngineClient, 'listContainersOnNetwork' | 'disconnectNetwork' | 'removeNetwork'>,
  id: string,
  signal?: AbortSignal,
): Promise<void> {
  const problems: string[] = [];
  for (const c of await engine.listContainersOnNetwork(id, signal)) {
    await engine.disconnectNetwork(id, c.id, signal).catch((err: unknown) => problems.push(`detaching container ${c.name}: ${errorMessage(err)}`));
  }
  try {
    await engine.removeNetwork(id, signal);
  } catch (err) {
    if (!problems.length) throw err;
    const status = err instanceof EngineError ? err.statusCode : 0;
    throw new EngineError('remove network', status, `${errorMessage(err)} (${problems.join('; ')})`, { cause: err });
  }
}
