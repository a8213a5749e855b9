/**
 * The private temp folders that host-side git runs of older berth versions made (HOME and the
 * askpass script of one fetch). They were removed when the fetch ended, but a runner killed
 * with SIGKILL left them behind; berth's git now needs none (git-command.ts), and the daemon's
 * start still removes those. Their names carry the owner so that the next start of the same
 * runner removes exactly its own:
 *
 *   berth-git-<system id>-<pid>-<random>
 *
 * The system id alone does not identify a live process: gitlab-runner derives it from the
 * machine id (common/system_id.go), so every runner manager on a host may share it. A folder
 * is therefore removed only when its process is gone (or is this very process, whose earlier
 * incarnation had the same PID, e.g. PID 1 in a container): another live runner's folders are
 * never touched.
 */
import { readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { processAlive } from '../shared/process-alive.js';

/** An owned folder's name; one without an owner (the plain prefix, no system id) is never swept. */
const NAME = /^berth-git-([sr]_[0-9a-zA-Z]{12})-(\d+)-/;

export interface GitTempSweep {
  /** Folder names removed. */
  removed: string[];
  /** One line per folder that could not be removed. */
  problems: string[];
}

/**
 * Removes the folders of `systemId` in `root` whose process is gone. Never throws: a folder that
 * cannot be listed or removed is reported in `problems`.
 */
export async function sweepGitTempDirs(systemId: string, root: string = tmpdir(), isAlive: (pid: number) => boolean = processAlive): Promise<GitTempSweep> {
  const out: GitTempSweep = { removed: [], problems: [] };
  let names: string[];
  try {
    names = await readdir(root);
  } catch (err) {
    out.problems.push(`cannot list ${root}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    return out;
  }
  for (const name of names) {
    const m = NAME.exec(name);
    if (m?.[1] !== systemId) continue;
    const pid = Number(m[2]);
    if (pid !== process.pid && isAlive(pid)) continue;
    try {
      await rm(join(root, name), { recursive: true, force: true });
      out.removed.push(name);
    } catch (err) {
      out.problems.push(`cannot remove ${join(root, name)}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
  }
  return out;
}
