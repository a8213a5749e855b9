import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import type { ListedObject } from '../engine/engine-client.js';
import { EngineError } from '../engine/engine-error.js';
import type { SweepEngine } from '../engine/sweep-labelled.js';
import { MANAGED_LABEL, SHORT_TOKEN_LABEL } from '../executor/docker/labeller.js';
import { EXEC_HOST_LABEL, EXEC_PID_LABEL, sweepExecLeftovers } from './exec-sweeper.js';

const labels = (pid: number): Record<string, string> => ({
  [MANAGED_LABEL]: 'true',
  [SHORT_TOKEN_LABEL]: 'exec',
  [EXEC_HOST_LABEL]: hostname(),
  [EXEC_PID_LABEL]: String(pid),
});

/** Two containers of exec runs (pid 1001 gone, 1002 alive); the engine refuses to remove the dead one. */
function engineWithLeftovers(removed: string[]): SweepEngine {
  const containers: ListedObject[] = [
    { id: 'dead', name: 'berth-exec-dead', labels: labels(1001) },
    { id: 'alive', name: 'berth-exec-alive', labels: labels(1002) },
  ];
  return {
    listContainers: async () => containers,
    listNetworks: async () => [],
    listVolumes: async () => [{ id: 'v', name: 'berth-exec-vol', labels: labels(1001) }],
    listContainersOnNetwork: async () => [],
    removeContainer: async (id) => {
      throw new EngineError('remove container', 409, `removal of container ${id} is already in progress`);
    },
    removeNetwork: async () => undefined,
    disconnectNetwork: async () => undefined,
    removeVolume: async (name) => void removed.push(name),
  };
}

describe('sweepExecLeftovers', () => {
  it('removes only objects of exec processes that are gone, and reports what it could not remove', async () => {
    const removed: string[] = [];
    const report = await sweepExecLeftovers(engineWithLeftovers(removed), (pid) => pid === 1002);
    expect(removed).toEqual(['berth-exec-vol']);
    expect(report.removed).toEqual([{ kind: 'volume', name: 'berth-exec-vol' }]);
    expect(report.failed).toMatchObject([{ kind: 'container', name: 'berth-exec-dead' }]);
  });
});
