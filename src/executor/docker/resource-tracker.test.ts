import { describe, expect, it } from 'vitest';
import type { EngineClient } from '../../engine/engine-client.js';
import { ResourceTracker } from './resource-tracker.js';

/** Records every call in order; `fail` makes the named operation throw once per listed call. */
class RecordingEngine {
  calls: string[] = [];
  fail = new Set<string>();
  private next = 0;

  private async record(call: string): Promise<void> {
    this.calls.push(call);
    await Promise.resolve();
    if (this.fail.delete(call)) throw new Error(`${call} refused`);
  }
  async createContainer(): Promise<string> {
    const id = `c${++this.next}`;
    await this.record(`create ${id}`);
    return id;
  }
  async createNetwork(name: string): Promise<string> {
    await this.record(`create network ${name}`);
    return `id-${name}`;
  }
  removeContainer = (id: string) => this.record(`remove ${id}`);
  removeNetwork = (id: string) => this.record(`remove network ${id}`);
  connectNetwork = (network: string, container: string) => this.record(`connect ${container} to ${network}`);
  disconnectNetwork = (network: string, container: string) => this.record(`disconnect ${container} from ${network}`);
  listContainers = async () => [];
  listNetworks = async () => [];
  listVolumes = async () => [];

  asEngine(): EngineClient {
    return this as unknown as EngineClient;
  }
}

async function trackerWithNetwork(engine: RecordingEngine): Promise<ResourceTracker> {
  const tracker = new ResourceTracker(engine.asEngine(), 'berth.job.uid=x');
  await tracker.createNetwork('net', {}, {});
  await tracker.createContainer({ name: 'svc', image: 'svc' });
  return tracker;
}

describe('ResourceTracker: connections of berth\'s own container', () => {
  it('disconnects a container it connected before removing the network', async () => {
    const engine = new RecordingEngine();
    const tracker = await trackerWithNetwork(engine);
    await tracker.connectNetwork('id-net', 'berth');
    expect(await tracker.cleanup()).toEqual([]);
    const order = engine.calls.slice(engine.calls.indexOf('connect berth to id-net') + 1);
    expect(order).toEqual(['remove c1', 'disconnect berth from id-net', 'remove network id-net']);
  });

  it('forgets a connection once disconnected: cleanup does not disconnect again', async () => {
    const engine = new RecordingEngine();
    const tracker = await trackerWithNetwork(engine);
    await tracker.connectNetwork('id-net', 'berth');
    await tracker.disconnectNetwork('id-net', 'berth');
    await tracker.cleanup();
    expect(engine.calls.filter((c) => c.startsWith('disconnect'))).toEqual(['disconnect berth from id-net']);
  });

  it('keeps a connection whose disconnect failed, and cleanup disconnects it', async () => {
    const engine = new RecordingEngine();
    const tracker = await trackerWithNetwork(engine);
    await tracker.connectNetwork('id-net', 'berth');
    engine.fail.add('disconnect berth from id-net');
    await expect(tracker.disconnectNetwork('id-net', 'berth')).rejects.toThrow('refused');
    expect(await tracker.cleanup()).toEqual([]);
    expect(engine.calls.filter((c) => c.startsWith('disconnect'))).toEqual(['disconnect berth from id-net', 'disconnect berth from id-net']);
  });

  it('disconnects at cleanup even when the connect call itself failed (it may have connected)', async () => {
    const engine = new RecordingEngine();
    const tracker = await trackerWithNetwork(engine);
    engine.fail.add('connect berth to id-net');
    await expect(tracker.connectNetwork('id-net', 'berth')).rejects.toThrow('refused');
    await tracker.cleanup();
    expect(engine.calls).toContain('disconnect berth from id-net');
  });

  it('reports a disconnect that cleanup could not do, and still removes the rest', async () => {
    const engine = new RecordingEngine();
    const tracker = await trackerWithNetwork(engine);
    await tracker.connectNetwork('id-net', 'berth1234567890');
    engine.fail.add('disconnect berth1234567890 from id-net');
    expect(await tracker.cleanup()).toEqual(['container berth1234567 on network id-net: disconnect berth1234567890 from id-net refused']);
    expect(engine.calls).toContain('remove network id-net');
    expect(await tracker.cleanup()).toEqual([]);
  });
});
