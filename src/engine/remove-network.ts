import type { EngineClient } from './engine-client.js';

/**
 * Removes a network even when a container is still attached to it (a berth container that
 * died while joined to a job network for a health check): detaches everything first.
 */
export async function removeNetworkForcefully(engine: EngineClient, id: string, signal?: AbortSignal): Promise<void> {
  for (const c of await engine.listContainersOnNetwork(id, signal)) {
    await engine.disconnectNetwork(id, c.id, signal).catch(() => undefined);
  }
  await engine.removeNetwork(id, signal);
}
