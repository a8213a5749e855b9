/**
 * Removes what an earlier `berth exec` left behind when it was killed before it could clean
 * up (kill -9, a power cut): objects of exec runs whose process is gone. Never touches objects
 * of a running berth process, of `berth run`, or of anything else.
 */
import { hostname } from 'node:os';
import type { ListedObject } from '../engine/engine-client.js';
import { type SweepEngine, type SweepReport, sweepLabelled } from '../engine/sweep-labelled.js';
import { MANAGED_LABEL, SHORT_TOKEN_LABEL } from '../executor/docker/labeller.js';
import { processAlive } from '../shared/process-alive.js';

export const EXEC_PID_LABEL = 'berth.exec.pid';
export const EXEC_HOST_LABEL = 'berth.exec.host';

/** Labels that let a later run tell whether the process that made an object is gone. */
export function execOwnerLabels(): Record<string, string> {
  return { [EXEC_PID_LABEL]: String(process.pid), [EXEC_HOST_LABEL]: hostname() };
}

/** Removes the objects of exec runs whose process is gone; reports what could not be removed. */
export async function sweepExecLeftovers(engine: SweepEngine, isAlive: (pid: number) => boolean = processAlive): Promise<SweepReport> {
  // Only this host's processes can be checked: another PID namespace (a container) may share the engine.
  const filters = [`${MANAGED_LABEL}=true`, `${SHORT_TOKEN_LABEL}=exec`, `${EXEC_HOST_LABEL}=${hostname()}`];
  const orphan = (o: ListedObject): boolean => {
    const pid = Number(o.labels[EXEC_PID_LABEL]);
    return Number.isInteger(pid) && pid > 0 && pid !== process.pid && !isAlive(pid);
  };
  return sweepLabelled(engine, { filters, select: orphan });
}
