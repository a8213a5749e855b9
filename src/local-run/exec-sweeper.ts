/**
 * Removes what an earlier `berth exec` left behind when it was killed before it could clean
 * up (kill -9, a power cut): objects of exec runs whose process is gone. Never touches objects
 * of a running berth process, of `berth run`, or of anything else.
 */
import { hostname } from 'node:os';
import type { EngineClient, ListedObject } from '../engine/engine-client.js';
import { removeNetworkForcefully } from '../engine/remove-network.js';
import { MANAGED_LABEL, SHORT_TOKEN_LABEL } from '../executor/docker/labeller.js';

export const EXEC_PID_LABEL = 'berth.exec.pid';
export const EXEC_HOST_LABEL = 'berth.exec.host';

/** Labels that let a later run tell whether the process that made an object is gone. */
export function execOwnerLabels(): Record<string, string> {
  return { [EXEC_PID_LABEL]: String(process.pid), [EXEC_HOST_LABEL]: hostname() };
}

export async function sweepExecLeftovers(engine: EngineClient, isAlive: (pid: number) => boolean = processAlive): Promise<number> {
  // Only this host's processes can be checked: another PID namespace (a container) may share the engine.
  const filters = [`${MANAGED_LABEL}=true`, `${SHORT_TOKEN_LABEL}=exec`, `${EXEC_HOST_LABEL}=${hostname()}`];
  const [containers, networks, volumes] = await Promise.all([
    engine.listContainers(filters),
    engine.listNetworks(filters),
    engine.listVolumes(filters),
  ]);
  const orphan = (o: ListedObject): boolean => {
    const pid = Number(o.labels[EXEC_PID_LABEL]);
    return Number.isInteger(pid) && pid > 0 && pid !== process.pid && !isAlive(pid);
  };
  let removed = 0;
  const count = async (p: Promise<void>): Promise<void> => {
    await p.then(() => removed++).catch(() => undefined);
  };
  await Promise.all(containers.filter(orphan).map((c) => count(engine.removeContainer(c.id, { force: true, volumes: true }))));
  await Promise.all(networks.filter(orphan).map((n) => count(removeNetworkForcefully(engine, n.id))));
  await Promise.all(volumes.filter(orphan).map((v) => count(engine.removeVolume(v.name))));
  return removed;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
