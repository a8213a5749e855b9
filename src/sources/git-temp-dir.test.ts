import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sweepGitTempDirs } from './git-temp-dir.js';

const ME = 's_0123456789ab';
const OTHER = 'r_ABCDEFabcdef';

/** The PID of a process that has exited (a `true` that ran to its end). */
function deadPid(): number {
  const r = spawnSync('true');
  if (!r.pid) throw new Error('could not run true');
  return r.pid;
}

describe('git temp folders', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'berth-git-temp-test-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const make = (name: string): string => {
    mkdirSync(join(root, name));
    writeFileSync(join(root, name, 'askpass.sh'), '#!/bin/sh\n');
    return name;
  };

  it("removes only its own system id's folders whose process is gone, or is this process", async () => {
    const dead = deadPid();
    const mine = make(`berth-git-${ME}-${dead}-aaaaaa`);
    const mineNow = make(`berth-git-${ME}-${process.pid}-bbbbbb`);
    // Alive: the parent of this test process (another runner with the same system id).
    const live = make(`berth-git-${ME}-${process.ppid}-cccccc`);
    const others = make(`berth-git-${OTHER}-${dead}-dddddd`);
    const plain = make('berth-git-eeeeee');
    const unrelated = make(`something-${ME}-${dead}-ffffff`);

    const r = await sweepGitTempDirs(ME, root);
    expect(r.removed.sort()).toEqual([mine, mineNow].sort());
    expect(r.problems).toEqual([]);
    expect(readdirSync(root).sort()).toEqual([live, others, plain, unrelated].sort());
  });

  it('asks whether each PID lives, and keeps a live one', async () => {
    make(`berth-git-${ME}-4242-aaaaaa`);
    const asked: number[] = [];
    const r = await sweepGitTempDirs(ME, root, (pid) => (asked.push(pid), true));
    expect(asked).toEqual([4242]);
    expect(r.removed).toEqual([]);
  });

  it('reports a root it cannot list instead of throwing', async () => {
    const r = await sweepGitTempDirs(ME, join(root, 'missing'));
    expect(r).toEqual({ removed: [], problems: [`cannot list ${join(root, 'missing')}: ENOENT`] });
  });
});
