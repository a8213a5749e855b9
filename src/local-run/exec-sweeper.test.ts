import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { FakeEngine } from '../../test/support/fake-engine.js';
import { EngineError } from '../engine/engine-error.js';
import { MANAGED_LABEL, SHORT_TOKEN_LABEL } from '../executor/docker/labeller.js';
import { EXEC_HOST_LABEL, EXEC_PID_LABEL, sweepExecLeftovers } from './exec-sweeper.js';

const labels = (pid: number, host = hostname()): Record<string, string> => ({
  [MANAGED_LABEL]: 'true',
  [SHORT_TOKEN_LABEL]: 'exec',
  [EXEC_HOST_LABEL]: host,
  [EXEC_PID_LABEL]: String(pid),
});

describe('sweepExecLeftovers', () => {
  it('removes only objects of exec processes that are gone, and reports what it could not remove', async () => {
    const engine = new FakeEngine();
    engine.addContainer({ id: 'dead', name: 'berth-exec-dead', labels: labels(1001) });
    engine.addContainer({ id: 'alive', name: 'berth-exec-alive', labels: labels(1002) });
    engine.addContainer({ id: 'elsewhere', name: 'berth-exec-other-host', labels: labels(1001, 'another-host') });
    await engine.createVolume('berth-exec-vol', labels(1001));
    engine.fail('removeContainer', new EngineError('remove container', 409, 'removal of container dead is already in progress'));
    const report = await sweepExecLeftovers(engine, (pid) => pid === 1002);
    expect(report.removed).toEqual([{ kind: 'volume', name: 'berth-exec-vol' }]);
    expect(report.failed).toMatchObject([{ kind: 'container', name: 'berth-exec-dead' }]);
    expect([...engine.containers.keys()].sort()).toEqual(['alive', 'dead', 'elsewhere']);
    expect(engine.volumes.size).toBe(0);
  });
});
