import { describe, expect, it } from 'vitest';
import { FakeEngine } from '../../../test/support/fake-engine.js';
import { canJoinNetworks, containerIdCandidates, OwnContainerFinder } from './own-container.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const C = 'c'.repeat(64);

/** The lines Docker 20.10 gives a container (cgroup v1), trimmed. */
const DOCKER_MOUNTINFO = [
  '72 48 0:39 / / rw,relatime master:2 - overlay overlay rw,lowerdir=/var/lib/docker/overlay2/l/X',
  `78 77 0:29 /docker/${C} /sys/fs/cgroup/cpu ro,nosuid,nodev,noexec,relatime - cgroup cgroup rw,cpu`,
  `79 72 254:0 /srv/data/containers/${B}/x /data rw,relatime - ext4 /dev/vda rw`,
  `89 72 254:0 /var/lib/docker/containers/${A}/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/vda rw`,
  `90 72 254:0 /var/lib/docker/containers/${A}/hostname /etc/hostname rw,relatime - ext4 /dev/vda rw`,
  `91 72 254:0 /var/lib/docker/containers/${A}/hosts /etc/hosts rw,relatime - ext4 /dev/vda rw`,
].join('\n');

describe('containerIdCandidates', () => {
  it('puts the id of the container behind /etc/hostname first, then cgroup ids, then other container mounts', () => {
    expect(containerIdCandidates(DOCKER_MOUNTINFO, `1:cpu:/docker/${C}\n0::/docker/${C}\n`)).toEqual([A, C, B]);
  });

  it('reads cgroup v1 paths and systemd scopes when mountinfo has nothing', () => {
    expect(containerIdCandidates('', `9:name=systemd:/docker/${A}\n`)).toEqual([A]);
    expect(containerIdCandidates('', `0::/system.slice/docker-${B}.scope\n`)).toEqual([B]);
  });

  it('finds nothing on a host whose mount table shows other containers\' files mounted into their root file systems', () => {
    const host = [
      '22 1 254:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
      `80 78 254:0 /var/lib/docker/containers/${A}/resolv.conf /var/lib/docker/overlay2/${B}/merged/etc/resolv.conf rw,relatime - ext4 /dev/vda rw`,
      `82 78 254:0 /var/lib/docker/containers/${A}/hostname /var/lib/docker/overlay2/${B}/merged/etc/hostname rw,relatime - ext4 /dev/vda rw`,
      `83 22 0:50 / /var/lib/docker/containers/${C}/mounts/shm rw,nosuid,nodev,noexec,relatime shared:60 - tmpfs shm rw`,
    ].join('\n');
    expect(containerIdCandidates(host, '0::/\n')).toEqual([]);
  });

  it('finds nothing on a host (cgroup v2 root, no container mounts)', () => {
    const host = '22 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n30 22 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw';
    expect(containerIdCandidates(host, '0::/\n')).toEqual([]);
    expect(containerIdCandidates(host, '0::/user.slice/user-1000.slice/session-2.scope\n')).toEqual([]);
  });
});

/** An engine that knows these containers (id → what inspect says). */
function engineWith(containers: Record<string, { networkMode?: string }>): FakeEngine {
  const engine = new FakeEngine();
  for (const [id, c] of Object.entries(containers)) engine.addContainer({ id, ...c });
  return engine;
}

const inspected = (engine: FakeEngine): unknown[] => engine.callsOf('inspectContainer').map((args) => args[0]);

const proc = (mountinfo: string, cgroup = '') => {
  const reads: string[] = [];
  const read = async (path: string): Promise<string> => {
    reads.push(path);
    if (path.endsWith('mountinfo')) return mountinfo;
    if (path.endsWith('cgroup')) return cgroup;
    throw new Error(`unexpected read of ${path}`);
  };
  return { read, reads };
};

describe('OwnContainerFinder', () => {
  it('confirms the candidate with the engine and asks each engine once', async () => {
    const engine = engineWith({ [A]: { networkMode: 'bridge' } });
    const files = proc(DOCKER_MOUNTINFO);
    const finder = new OwnContainerFinder(files.read);
    expect(await finder.find(engine)).toEqual({ id: A, networkMode: 'bridge' });
    expect(await finder.find(engine)).toEqual({ id: A, networkMode: 'bridge' });
    expect(inspected(engine)).toEqual([A]);
    expect(files.reads).toEqual(['/proc/self/mountinfo', '/proc/self/cgroup']);
  });

  it('skips candidates the engine does not know (another engine, a nested daemon)', async () => {
    const engine = engineWith({ [C]: { networkMode: 'berth-net' } });
    const finder = new OwnContainerFinder(proc(DOCKER_MOUNTINFO, `1:cpu:/docker/${C}`).read);
    expect(await finder.find(engine)).toEqual({ id: C, networkMode: 'berth-net' });
    expect(inspected(engine)).toEqual([A, C]);
  });

  it('finds none on the host, without asking the engine', async () => {
    const engine = engineWith({ [A]: {} });
    const finder = new OwnContainerFinder(proc('22 1 254:0 / / rw - ext4 /dev/vda rw', '0::/').read);
    expect(await finder.find(engine)).toBeNull();
    expect(inspected(engine)).toEqual([]);
  });

  it('finds none when /proc cannot be read', async () => {
    const finder = new OwnContainerFinder(async () => {
      throw new Error('ENOENT');
    });
    expect(await finder.find(engineWith({ [A]: {} }))).toBeNull();
  });

  it('does not remember an engine error: the next job asks again', async () => {
    const engine = engineWith({ [A]: {} });
    engine.fail('inspectContainer', new Error('engine unreachable'));
    const finder = new OwnContainerFinder(proc(DOCKER_MOUNTINFO).read);
    expect(await finder.find(engine)).toBeNull();
    expect(await finder.find(engine)).toEqual({ id: A, networkMode: 'default' });
  });

  it('keeps one answer per engine', async () => {
    const finder = new OwnContainerFinder(proc(DOCKER_MOUNTINFO).read);
    const local = engineWith({ [A]: {} });
    const remote = engineWith({});
    expect(await finder.find(local)).toMatchObject({ id: A });
    expect(await finder.find(remote)).toBeNull();
  });
});

describe('canJoinNetworks', () => {
  it('is false for host, none and container: network modes', () => {
    expect(['default', 'bridge', 'my-net', 'host', 'none', `container:${A}`].map((networkMode) => canJoinNetworks({ id: A, networkMode }))).toEqual([
      true,
      true,
      true,
      false,
      false,
      false,
    ]);
  });
});
