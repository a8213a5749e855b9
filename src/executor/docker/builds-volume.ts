/**
 * The job's builds volume (mounted at CI_BUILDS_DIR, as gitlab-runner mounts its builds volume)
 * and whether berth can write the sources straight into it on its own host, instead of a tar
 * through the Engine's archive API: the engine unpacks that tar in a re-executed child process
 * of its own, which costs a small job more CPU than anything else berth adds, and the copy waits
 * for the container's start (the engine locks the container for both).
 *
 * Straight writes need all of:
 *   - a local engine (remote engines keep the archive API);
 *   - no services: a service container mounts the same volume and runs while the sources are
 *     written, and nothing but berth may write the volume then;
 *   - no configured volume mounted at the builds folder or over the project folder;
 *   - the volume's data folder on berth's own file system (not the case when berth runs in a
 *     container, or the engine in a VM), empty once the build container exists (the image had
 *     nothing at that path to copy in) and writable by berth.
 * Otherwise the sources go through the archive API, as before.
 */
import { constants } from 'node:fs';
import { access, lstat, readdir } from 'node:fs/promises';
import { posix } from 'node:path';
import type { EngineClient } from '../../engine/engine-client.js';
import { projectTempDir } from '../../job/build-dir.js';
import type { DirTarget } from './sources-to-dir.js';

export interface BuildsVolumeInput {
  localEngine: boolean;
  hasServices: boolean;
  buildsDir: string;
  projectDir: string;
  /** `[runners.docker] volumes` as binds (`src:dest[:mode]` or `name:dest`). */
  binds: readonly string[];
}

/** Whether the job may get its sources written straight into its builds volume (checked again on the volume itself). */
export function mayWriteSourcesDirectly(input: BuildsVolumeInput): boolean {
  if (!input.localEngine || input.hasServices) return false;
  const builds = posix.normalize(input.buildsDir);
  const project = posix.normalize(input.projectDir);
  if (!isWithin(project, builds) || project === builds) return false;
  const targets = [project, projectTempDir(project)];
  return input.binds.every((bind) => {
    const dest = bindDestination(bind);
    return dest !== builds && targets.every((t) => !isWithin(t, dest) && !isWithin(dest, t));
  });
}

/**
 * The volume's data folder as berth's host sees it, when berth may write the sources there (see
 * above). `elsewhere`: the engine's volumes are not on berth's file system (or not writable by
 * berth), which holds for every later job too; `occupied`: this job's image had files at the
 * mount path. Call it once the build container exists: creating it copies what the image has at
 * the mount path into the empty volume.
 */
export async function volumeDirOnHost(
  engine: EngineClient,
  volume: string,
  mountedAt: string,
  signal: AbortSignal,
): Promise<{ target: DirTarget } | { refused: 'elsewhere' | 'occupied' }> {
  const elsewhere = { refused: 'elsewhere' } as const;
  const dir = await engine.volumeMountpoint(volume, signal).catch(() => null);
  if (!dir || !posix.isAbsolute(dir)) return elsewhere;
  try {
    const st = await lstat(dir);
    if (!st.isDirectory()) return elsewhere;
    await access(dir, constants.W_OK);
    if ((await readdir(dir)).length > 0) return { refused: 'occupied' };
    const own = { uid: process.geteuid?.() ?? -1, gid: process.getegid?.() ?? -1 };
    if (st.uid === own.uid && st.gid === own.gid) return { target: { dir, mountedAt, owner: null } };
    // Files for another owner (a remapped root): only root can give them away.
    return own.uid === 0 ? { target: { dir, mountedAt, owner: { uid: st.uid, gid: st.gid } } } : elsewhere;
  } catch {
    return elsewhere;
  }
}

function bindDestination(bind: string): string {
  const parts = bind.split(':');
  return posix.normalize(parts.length >= 2 ? parts[1]! : parts[0]!);
}

/** `path` is `dir` or inside it. */
function isWithin(path: string, dir: string): boolean {
  const rel = posix.relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !posix.isAbsolute(rel));
}
