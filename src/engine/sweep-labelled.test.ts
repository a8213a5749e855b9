import { describe, expect, it } from 'vitest';
import type { ListedObject } from './engine-client.js';
import { EngineError } from './engine-error.js';
import { type SweepEngine, countRemoved, formatSweepFailure, sweepLabelled } from './sweep-labelled.js';

interface Obj extends ListedObject {
  /** For containers: the networks it is attached to. */
  networks?: string[];
}

/** An in-memory engine: label filters as `key=value`, calls recorded in order; `refuse` makes an operation fail. */
class MemoryEngine implements SweepEngine {
  containers = new Map<string, Obj>();
  networks = new Map<string, Obj>();
  volumes = new Map<string, Obj>();
  calls: string[] = [];
  refuse = new Set<string>();

  add(kind: 'containers' | 'networks' | 'volumes', id: string, labels: Record<string, string>, networks: string[] = []): void {
    // A volume's name is its id.
    this[kind].set(id, { id, name: kind === 'volumes' ? id : `${kind.slice(0, -1)}-${id}`, labels, networks });
  }

  private async act(call: string): Promise<void> {
    this.calls.push(call);
    await Promise.resolve();
    if (this.refuse.has(call)) throw new EngineError(call, 500, `${call} refused by the engine`);
  }
  private list(kind: 'containers' | 'networks' | 'volumes', filters: string[]): ListedObject[] {
    return [...this[kind].values()].filter((o) => filters.every((f) => o.labels[f.split('=')[0]!] === f.split('=')[1]));
  }

  listContainers = async (filters: string[]) => (await this.act('list containers'), this.list('containers', filters));
  listNetworks = async (filters: string[]) => (await this.act('list networks'), this.list('networks', filters));
  listVolumes = async (filters: string[]) => (await this.act('list volumes'), this.list('volumes', filters));
  listContainersOnNetwork = async (network: string) => [...this.containers.values()].filter((c) => c.networks?.includes(network));
  removeContainer = async (id: string) => {
    await this.act(`remove container ${id}`);
    if (!this.containers.delete(id)) throw new EngineError('remove container', 404, `No such container: ${id}`);
  };
  disconnectNetwork = async (network: string, container: string) => {
    await this.act(`disconnect ${container} from ${network}`);
    const c = this.containers.get(container);
    if (c) c.networks = c.networks?.filter((n) => n !== network);
  };
  removeNetwork = async (id: string) => {
    await this.act(`remove network ${id}`);
    if ([...this.containers.values()].some((c) => c.networks?.includes(id))) {
      throw new EngineError('remove network', 403, `error while removing network: network ${id} has active endpoints`);
    }
    this.networks.delete(id);
  };
  removeVolume = async (name: string) => {
    await this.act(`remove volume ${name}`);
    this.volumes.delete(name);
  };
}

const job = { 'berth.job': '7' };
const other = { 'berth.job': '8' };

describe('sweepLabelled', () => {
  it('removes what the labels select: containers first, then networks, then volumes; leaves the rest', async () => {
    const engine = new MemoryEngine();
    engine.add('containers', 'c1', job, ['n1']);
    engine.add('containers', 'c2', other);
    engine.add('networks', 'n1', job);
    engine.add('volumes', 'v1', job);
    engine.add('volumes', 'v2', other);
    const report = await sweepLabelled(engine, { filters: ['berth.job=7'] });
    expect(report.failed).toEqual([]);
    expect(report.removed).toEqual([
      { kind: 'container', name: 'container-c1' },
      { kind: 'network', name: 'network-n1' },
      { kind: 'volume', name: 'v1' },
    ]);
    const removals = engine.calls.filter((c) => c.startsWith('remove'));
    expect(removals).toEqual(['remove container c1', 'remove network n1', 'remove volume v1']);
    expect([...engine.containers.keys(), ...engine.volumes.keys()]).toEqual(['c2', 'v2']);
  });

  it('reports each object it could not remove, with the engine\'s answer, and still removes the others', async () => {
    const engine = new MemoryEngine();
    engine.add('containers', 'c1', job);
    engine.add('containers', 'c2', job);
    engine.add('volumes', 'v1', job);
    engine.refuse.add('remove container c1');
    const report = await sweepLabelled(engine, { filters: ['berth.job=7'] });
    expect(report.failed.map(formatSweepFailure)).toEqual(['container container-c1: remove container c1 refused by the engine']);
    expect(report.failed[0]!.error).toBeInstanceOf(EngineError);
    expect(countRemoved(report, 'container')).toBe(1);
    expect(countRemoved(report, 'volume')).toBe(1);
  });

  it('reports a listing it could not make, and still removes what it knows by id', async () => {
    const engine = new MemoryEngine();
    engine.add('containers', 'c1', job);
    engine.add('volumes', 'v1', job);
    engine.refuse.add('list containers');
    const report = await sweepLabelled(engine, { filters: ['berth.job=7'], known: { containers: ['c1'] } });
    expect(report.failed.map(formatSweepFailure)).toEqual(['listing containers labelled berth.job=7: list containers refused by the engine']);
    expect(report.removed.map((o) => o.kind)).toEqual(['container', 'volume']);
    expect(engine.containers.size + engine.volumes.size).toBe(0);
  });

  it('removes only the listed objects `select` accepts', async () => {
    const engine = new MemoryEngine();
    engine.add('containers', 'dead', { ...job, pid: '1' });
    engine.add('containers', 'alive', { ...job, pid: '2' });
    const report = await sweepLabelled(engine, { filters: ['berth.job=7'], select: (o) => o.labels.pid === '1' });
    expect(report.removed).toEqual([{ kind: 'container', name: 'container-dead' }]);
    expect([...engine.containers.keys()]).toEqual(['alive']);
  });

  it('detaches a container of someone else still on a network before removing it', async () => {
    const engine = new MemoryEngine();
    engine.add('containers', 'berth', {}, ['n1']);
    engine.add('networks', 'n1', job);
    const report = await sweepLabelled(engine, { filters: ['berth.job=7'] });
    expect(report).toEqual({ removed: [{ kind: 'network', name: 'network-n1' }], failed: [] });
    expect(engine.containers.get('berth')?.networks).toEqual([]);
  });

  it('names the container it could not detach when the network removal then fails', async () => {
    const engine = new MemoryEngine();
    engine.add('containers', 'berth', {}, ['n1']);
    engine.add('networks', 'n1', job);
    engine.refuse.add('disconnect berth from n1');
    const report = await sweepLabelled(engine, { filters: ['berth.job=7'] });
    expect(report.removed).toEqual([]);
    expect(report.failed.map(formatSweepFailure)).toEqual([
      'network network-n1: error while removing network: network n1 has active endpoints (detaching container container-berth: disconnect berth from n1 refused by the engine)',
    ]);
  });

  it('without filters lists nothing; known objects and connections to undo are handled in order', async () => {
    const engine = new MemoryEngine();
    engine.add('containers', 'c1', job, ['n1']);
    engine.add('containers', 'berth', {}, ['n1']);
    engine.add('networks', 'n1', job);
    const report = await sweepLabelled(engine, {
      known: { containers: ['c1'], networks: ['n1'] },
      detach: [{ network: 'n1', container: 'berth' }],
      detachAll: false,
    });
    expect(report.failed).toEqual([]);
    expect(engine.calls).toEqual(['remove container c1', 'disconnect berth from n1', 'remove network n1']);
  });
});
