import { describe, expect, it } from 'vitest';
import { testRunLabel } from '../../test/support/job-fixtures.js';
import { DockerodeEngine } from './dockerode-engine.js';
import { removeNetworkForcefully } from './remove-network.js';

const engine = new DockerodeEngine();
const run = testRunLabel();

describe('removeNetworkForcefully', () => {
  it('removes a network a running container is still attached to, and leaves the container', async () => {
    const net = await engine.createNetwork(`berth-test-net-${run.value}`, run.labels);
    const id = await engine.createContainer({
      name: `berth-test-attached-${run.value}`,
      image: 'berth-test/busybox:latest',
      cmd: ['sleep', '60'],
      labels: run.labels,
      networkMode: `berth-test-net-${run.value}`,
    });
    try {
      await engine.startContainer(id);
      await expect(engine.removeNetwork(net)).rejects.toThrow();
      await removeNetworkForcefully(engine, net);
      expect(await engine.listNetworks([run.filter])).toEqual([]);
      expect((await engine.inspectContainer(id))?.state.running).toBe(true);
    } finally {
      await engine.removeContainer(id, { force: true });
      await engine.removeNetwork(net);
    }
    expect(await engine.listContainers([run.filter])).toEqual([]);
  });
});
