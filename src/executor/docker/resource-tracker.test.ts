import { describe, expect, it } from 'vitest';
import { FakeEngine } from '../../../test/support/fake-engine.js';
import { EngineError } from '../../engine/engine-error.js';
import type { Labels } from '../../engine/engine-client.js';
import { abortReason } from '../../shared/abort.js';
import { ResourceTracker } from './resource-tracker.js';

const JOB = 'berth.job.uid=x';

/** A job network with a service container on it, and berth's own container (not the job's). */
async function trackerWithNetwork(engine: FakeEngine, own = 'berth'): Promise<{ tracker: ResourceTracker; net: string; svc: string }> {
  engine.addImage('svc');
  engine.addContainer({ id: own });
  const tracker = new ResourceTracker(engine, JOB);
  const net = await tracker.createNetwork('net', { 'berth.job.uid': 'x' }, {});
  const svc = await tracker.createContainer({ name: 'svc', image: 'svc', networkMode: net, labels: { 'berth.job.uid': 'x' } });
  return { tracker, net, svc };
}

/** The removal calls since call number `from`, as "op arg arg". */
function removals(engine: FakeEngine, from = 0): string[] {
  const ops = new Set(['removeContainer', 'disconnectNetwork', 'removeNetwork']);
  return engine.calls
    .slice(from)
    .filter((c) => ops.has(c.op))
    .map((c) => [c.op, ...c.args.filter((a) => typeof a === 'string')].join(' '));
}

const refused = (what: string): EngineError => new EngineError('disconnectNetwork', 500, `${what} refused`);

describe('ResourceTracker: connections of berth\'s own container', () => {
  it('disconnects a container it connected before removing the network', async () => {
    const engine = new FakeEngine();
    const { tracker, net, svc } = await trackerWithNetwork(engine);
    await tracker.connectNetwork(net, 'berth');
    const from = engine.calls.length;
    expect(await tracker.cleanup()).toEqual([]);
    expect(removals(engine, from)).toEqual([`removeContainer ${svc}`, `disconnectNetwork ${net} berth`, `removeNetwork ${net}`]);
    expect(engine.leftovers(JOB)).toEqual({ containers: [], networks: [], volumes: [] });
    expect(engine.containers.get('berth')?.networks.size).toBe(0);
  });

  it('forgets a connection once disconnected: cleanup does not disconnect again', async () => {
    const engine = new FakeEngine();
    const { tracker, net } = await trackerWithNetwork(engine);
    await tracker.connectNetwork(net, 'berth');
    await tracker.disconnectNetwork(net, 'berth');
    expect(await tracker.cleanup()).toEqual([]);
    expect(removals(engine).filter((c) => c.startsWith('disconnect'))).toEqual([`disconnectNetwork ${net} berth`]);
  });

  it('keeps a connection whose disconnect failed, and cleanup disconnects it', async () => {
    const engine = new FakeEngine();
    const { tracker, net } = await trackerWithNetwork(engine);
    await tracker.connectNetwork(net, 'berth');
    engine.fail('disconnectNetwork', refused('disconnect berth'));
    await expect(tracker.disconnectNetwork(net, 'berth')).rejects.toThrow('refused');
    expect(await tracker.cleanup()).toEqual([]);
    expect(removals(engine).filter((c) => c.startsWith('disconnect'))).toEqual([`disconnectNetwork ${net} berth`, `disconnectNetwork ${net} berth`]);
    expect(engine.leftovers(JOB).networks).toEqual([]);
  });

  it('disconnects at cleanup even when the connect call itself failed (it may have connected)', async () => {
    const engine = new FakeEngine();
    const { tracker, net } = await trackerWithNetwork(engine);
    // The engine connected it, but the answer never came back.
    engine.fail('connectNetwork', () => {
      engine.containers.get('berth')?.networks.add(net);
      return new EngineError('connectNetwork', 0, 'socket hang up');
    });
    await expect(tracker.connectNetwork(net, 'berth')).rejects.toThrow('socket hang up');
    expect(await tracker.cleanup()).toEqual([]);
    expect(removals(engine)).toContain(`disconnectNetwork ${net} berth`);
    expect(engine.leftovers(JOB).networks).toEqual([]);
  });

  it('reports a disconnect that cleanup could not do, and the network it kept in use, and still removes the rest', async () => {
    const engine = new FakeEngine();
    const { tracker, net } = await trackerWithNetwork(engine, 'berth1234567890');
    await tracker.connectNetwork(net, 'berth1234567890');
    engine.fail('disconnectNetwork', refused('disconnect berth1234567890'));
    const problems = await tracker.cleanup();
    expect(problems).toEqual([
      `container berth1234567 on network ${net}: disconnect berth1234567890 refused`,
      expect.stringMatching(new RegExp(`^network ${net.slice(0, 12)}: .*has active endpoints`)),
    ]);
    expect(engine.leftovers(JOB).containers).toEqual([]);
    expect(await tracker.cleanup()).toEqual([]);
  });
});

describe('ResourceTracker: cleanup', () => {
  it('removes containers, networks and volumes it created, whatever their order of creation', async () => {
    const engine = new FakeEngine();
    engine.addImage('img');
    const tracker = new ResourceTracker(engine, JOB);
    // The builds volume: made by the engine with the first container that mounts it.
    tracker.volumeMadeByMount('cache');
    await engine.createVolume('cache', { 'berth.job.uid': 'x' });
    const net = await tracker.createNetwork('net', { 'berth.job.uid': 'x' }, {});
    await tracker.createContainer({ name: 'build', image: 'img', networkMode: net, labels: { 'berth.job.uid': 'x' } });
    expect(await tracker.cleanup()).toEqual([]);
    expect(engine.leftovers(JOB)).toEqual({ containers: [], networks: [], volumes: [] });
  });

  it('after a create call that failed, sweeps by the job label (the object may exist)', async () => {
    const engine = new FakeEngine();
    engine.addImage('img');
    const tracker = new ResourceTracker(engine, JOB);
    // The engine created it, but the answer never came back.
    engine.fail('createContainer', () => {
      engine.addContainer({ id: 'orphan', labels: { 'berth.job.uid': 'x' }, running: false });
      return new EngineError('createContainer', 0, 'socket hang up');
    });
    await expect(tracker.createContainer({ name: 'build', image: 'img', labels: { 'berth.job.uid': 'x' } })).rejects.toThrow('socket hang up');
    expect(await tracker.cleanup()).toEqual([]);
    expect(engine.leftovers(JOB).containers).toEqual([]);
  });

  it('a volume to be made by a mount that never was (the container create failed first): nothing to report', async () => {
    const engine = new FakeEngine();
    const tracker = new ResourceTracker(engine, JOB);
    tracker.volumeMadeByMount('builds');
    expect(await tracker.cleanup()).toEqual([]);
  });

  it('reports what it could not remove, one message each, and goes on', async () => {
    const engine = new FakeEngine();
    const tracker = new ResourceTracker(engine, JOB);
    for (const v of ['v1', 'v2']) await engine.createVolume(tracker.volumeMadeByMount(v), { 'berth.job.uid': 'x' });
    engine.fail('removeVolume', (args) => (args[0] === 'v1' ? new EngineError('removeVolume', 409, 'volume is in use') : null));
    expect(await tracker.cleanup()).toEqual(['volume v1: volume is in use']);
    expect(engine.leftovers(JOB).volumes).toEqual(['v1']);
  });
});

describe('ResourceTracker: create calls in flight', () => {
  it('waits for a create call still in flight before it cleans up, and removes what that call made', async () => {
    const engine = new FakeEngine();
    const tracker = new ResourceTracker(engine, JOB);
    const gate = engine.hold('createNetwork');
    const creating = tracker.createNetwork('builds', { 'berth.job.uid': 'x' }, {});
    let cleaned = false;
    const cleanup = tracker.cleanup().then((problems) => {
      cleaned = true;
      return problems;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(cleaned).toBe(false);
    gate.release();
    expect(await creating).toMatch(/^n0+1$/);
    expect(await cleanup).toEqual([]);
    expect(engine.leftovers(JOB)).toEqual({ containers: [], networks: [], volumes: [] });
  });

  it('a create call the job\'s signal cut off but the engine still carried out: cleanup removes what it made', async () => {
    /** Like dockerd: once it has the request, it makes the network even if the client stops listening. */
    class LateEngine extends FakeEngine {
      gate!: () => void;
      made: Promise<string> | null = null;
      override createNetwork(name: string, labels: Labels, options: { mtu?: number; enableIpv6?: boolean }, signal?: AbortSignal): Promise<string> {
        const received = new Promise<void>((resolve) => (this.gate = resolve));
        const made = received.then(() => super.createNetwork(name, labels, options));
        this.made = made;
        return new Promise<string>((resolve, reject) => {
          made.then(resolve, reject);
          signal?.addEventListener('abort', () => reject(abortReason(signal)), { once: true });
        });
      }
    }
    const engine = new LateEngine();
    const tracker = new ResourceTracker(engine, JOB);
    const stop = new AbortController();
    const creating = tracker.createNetwork('builds', { 'berth.job.uid': 'x' }, {}, stop.signal);
    stop.abort(new Error('job aborted'));
    await expect(creating).rejects.toThrow('job aborted');
    const cleaning = tracker.cleanup();
    await new Promise((resolve) => setTimeout(resolve, 20));
    engine.gate();
    await engine.made;
    expect(await cleaning).toEqual([]);
    expect(engine.leftovers(JOB)).toEqual({ containers: [], networks: [], volumes: [] });
  });
});
