import { describe, expect, it } from 'vitest';
import { FakeEngine } from '../../test/support/fake-engine.js';
import { EngineError } from './engine-error.js';
import { countRemoved, formatSweepFailure, sweepLabelled } from './sweep-labelled.js';

const job = { 'berth.job': '7' };
const other = { 'berth.job': '8' };
const refused = (op: string): EngineError => new EngineError(op, 500, `${op} refused by the engine`);

/** A network of the job, with the containers given attached to it. */
async function network(engine: FakeEngine, name: string, labels: Record<string, string>, ...containers: string[]): Promise<string> {
  const id = await engine.createNetwork(name, labels);
  for (const c of containers) await engine.connectNetwork(id, c);
  return id;
}

const removals = (engine: FakeEngine): string[] =>
  engine.calls.filter((c) => /^(remove|disconnect)/.test(c.op)).map((c) => `${c.op} ${c.args.slice(0, 2).filter((a) => typeof a === 'string').join(' ')}`);

describe('sweepLabelled', () => {
  it('removes what the labels select: containers first, then networks, then volumes; leaves the rest', async () => {
    const engine = new FakeEngine();
    engine.addContainer({ id: 'c1', labels: job });
    engine.addContainer({ id: 'c2', labels: other });
    const n1 = await network(engine, 'net-1', job, 'c1');
    await engine.createVolume('v1', job);
    await engine.createVolume('v2', other);
    const report = await sweepLabelled(engine, { filters: ['berth.job=7'] });
    expect(report.failed).toEqual([]);
    expect(report.removed).toEqual([
      { kind: 'container', name: 'c1' },
      { kind: 'network', name: 'net-1' },
      { kind: 'volume', name: 'v1' },
    ]);
    expect(removals(engine)).toEqual(['removeContainer c1', `removeNetwork ${n1}`, 'removeVolume v1']);
    expect(engine.leftovers('berth.job=7')).toEqual({ containers: [], networks: [], volumes: [] });
    expect(engine.leftovers('berth.job=8')).toEqual({ containers: ['c2'], networks: [], volumes: ['v2'] });
  });

  it("reports each object it could not remove, with the engine's answer, and still removes the others", async () => {
    const engine = new FakeEngine();
    engine.addContainer({ id: 'c1', labels: job });
    engine.addContainer({ id: 'c2', labels: job });
    await engine.createVolume('v1', job);
    engine.fail('removeContainer', (args) => (args[0] === 'c1' ? refused('remove container c1') : null));
    const report = await sweepLabelled(engine, { filters: ['berth.job=7'] });
    expect(report.failed.map(formatSweepFailure)).toEqual(['container c1: remove container c1 refused by the engine']);
    expect(report.failed[0]!.error).toBeInstanceOf(EngineError);
    expect(countRemoved(report, 'container')).toBe(1);
    expect(countRemoved(report, 'volume')).toBe(1);
    expect(engine.leftovers('berth.job=7')).toEqual({ containers: ['c1'], networks: [], volumes: [] });
  });

  it('reports a listing it could not make, and still removes what it knows by id', async () => {
    const engine = new FakeEngine();
    engine.addContainer({ id: 'c1', labels: job });
    await engine.createVolume('v1', job);
    engine.fail('listContainers', refused('list containers'));
    const report = await sweepLabelled(engine, { filters: ['berth.job=7'], known: { containers: ['c1'] } });
    expect(report.failed.map(formatSweepFailure)).toEqual(['listing containers labelled berth.job=7: list containers refused by the engine']);
    expect(report.removed.map((o) => o.kind)).toEqual(['container', 'volume']);
    expect(engine.leftovers('berth.job=7')).toEqual({ containers: [], networks: [], volumes: [] });
  });

  it('removes only the listed objects `select` accepts', async () => {
    const engine = new FakeEngine();
    engine.addContainer({ id: 'dead', labels: { ...job, pid: '1' } });
    engine.addContainer({ id: 'alive', labels: { ...job, pid: '2' } });
    const report = await sweepLabelled(engine, { filters: ['berth.job=7'], select: (o) => o.labels.pid === '1' });
    expect(report.removed).toEqual([{ kind: 'container', name: 'dead' }]);
    expect([...engine.containers.keys()]).toEqual(['alive']);
  });

  it('detaches a container of someone else still on a network before removing it', async () => {
    const engine = new FakeEngine();
    const own = engine.addContainer({ id: 'berth' });
    await network(engine, 'net-1', job, 'berth');
    const report = await sweepLabelled(engine, { filters: ['berth.job=7'] });
    expect(report).toEqual({ removed: [{ kind: 'network', name: 'net-1' }], failed: [] });
    expect([...own.networks]).toEqual([]);
    expect(engine.containers.has('berth')).toBe(true);
  });

  it('names the container it could not detach when the network removal then fails', async () => {
    const engine = new FakeEngine();
    engine.addContainer({ id: 'berth' });
    const n1 = await network(engine, 'net-1', job, 'berth');
    engine.fail('disconnectNetwork', refused('disconnect berth from net-1'));
    const report = await sweepLabelled(engine, { filters: ['berth.job=7'] });
    expect(report.removed).toEqual([]);
    expect(report.failed.map(formatSweepFailure)).toEqual([
      `network net-1: error while removing network: network net-1 id ${n1} has active endpoints (detaching container berth: disconnect berth from net-1 refused by the engine)`,
    ]);
  });

  it('without filters lists nothing; known objects and connections to undo are handled in order', async () => {
    const engine = new FakeEngine();
    engine.addContainer({ id: 'c1', labels: job });
    engine.addContainer({ id: 'berth' });
    const n1 = await network(engine, 'net-1', job, 'c1', 'berth');
    const report = await sweepLabelled(engine, {
      known: { containers: ['c1'], networks: [n1] },
      detach: [{ network: n1, container: 'berth' }],
      detachAll: false,
    });
    expect(report.failed).toEqual([]);
    expect(engine.calls.filter((c) => c.op.startsWith('list'))).toEqual([]);
    expect(removals(engine)).toEqual(['removeContainer c1', `disconnectNetwork ${n1} berth`, `removeNetwork ${n1}`]);
  });
});
