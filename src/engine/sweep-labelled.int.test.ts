import { describe, expect, it } from 'vitest';
import { findLeftovers, NO_LEFTOVERS } from '../../test/support/leftovers.js';
import { testRunLabel } from '../../test/support/job-fixtures.js';
import { DockerodeEngine } from './dockerode-engine.js';
import { sweepLabelled } from './sweep-labelled.js';

const engine = new DockerodeEngine();

describe('sweepLabelled (real engine)', () => {
  it('removes a running container, the network it is on and a volume, and reports each one', async () => {
    const run = testRunLabel();
    await engine.createNetwork(`berth-test-sweep-${run.value}`, run.labels);
    await engine.createVolume(`berth-test-sweep-${run.value}`, run.labels);
    const id = await engine.createContainer({
      name: `berth-test-sweep-${run.value}`,
      image: 'berth-test/busybox:latest',
      cmd: ['sleep', '60'],
      labels: run.labels,
      networkMode: `berth-test-sweep-${run.value}`,
      mounts: [{ type: 'volume', source: `berth-test-sweep-${run.value}`, target: '/data' }],
    });
    await engine.startContainer(id);

    const report = await sweepLabelled(engine, { filters: [run.filter] });
    expect(report.failed).toEqual([]);
    expect(report.removed).toEqual([
      { kind: 'container', name: `berth-test-sweep-${run.value}` },
      { kind: 'network', name: `berth-test-sweep-${run.value}` },
      { kind: 'volume', name: `berth-test-sweep-${run.value}` },
    ]);
    expect(await findLeftovers(engine, run.filter)).toEqual(NO_LEFTOVERS);
  });

  it('reports a volume the engine refuses to remove (in use by a container it does not sweep), and does not throw', async () => {
    const run = testRunLabel();
    const other = testRunLabel();
    const volume = `berth-test-sweep-inuse-${run.value}`;
    await engine.createVolume(volume, run.labels);
    const id = await engine.createContainer({
      name: `berth-test-sweep-user-${other.value}`,
      image: 'berth-test/busybox:latest',
      cmd: ['sleep', '60'],
      labels: other.labels,
      mounts: [{ type: 'volume', source: volume, target: '/data' }],
    });
    try {
      const report = await sweepLabelled(engine, { filters: [run.filter] });
      expect(report.removed).toEqual([]);
      expect(report.failed).toMatchObject([{ kind: 'volume', name: volume }]);
      expect(String(report.failed[0]!.error)).toMatch(/in use/);
    } finally {
      await engine.removeContainer(id, { force: true, volumes: false });
    }
    expect((await sweepLabelled(engine, { filters: [run.filter] })).failed).toEqual([]);
    expect(await findLeftovers(engine, run.filter)).toEqual(NO_LEFTOVERS);
    expect(await findLeftovers(engine, other.filter)).toEqual(NO_LEFTOVERS);
  });
});
