/**
 * Host-side git (src/sources/) needs no temp folder: the job token reaches git through its
 * environment (git-command.ts), so a `berth run` killed with SIGKILL while git fetches a job's
 * sources leaves no git temp folder and no file with the token behind. Older berth versions
 * left a private folder (HOME, askpass) per fetch; the next start of the same runner still
 * removes those, and only those: the folder names carry the system id and PID of their owner
 * (src/sources/git-temp-dir.ts), so the folders of another live runner on the host — even one
 * with the same machine-derived system id — and of other runners are kept.
 */
import { randomInt } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { DockerodeEngine } from '../../src/engine/dockerode-engine.js';
import { findLeftovers, NO_LEFTOVERS } from '../support/leftovers.js';
import { createRunFixture, type RunFixture } from '../support/run-fixture.js';

const randomId = (prefix: string): string => {
  const abc = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return `${prefix}${Array.from({ length: 12 }, () => abc[randomInt(abc.length)]).join('')}`;
};

/** PIDs of running processes whose environment holds `entry` (the git that the killed berth started). */
function processesWithEnv(entry: string): number[] {
  const out: number[] = [];
  for (const p of readdirSync('/proc').filter((x) => /^\d+$/.test(x))) {
    try {
      if (readFileSync(`/proc/${p}/environ`, 'latin1').split('\0').includes(entry)) out.push(Number(p));
    } catch {
      // gone, or not ours to read
    }
  }
  return out;
}

/** Every file under `dir` whose bytes contain one of `needles`. */
function filesContaining(dir: string, needles: string[]): string[] {
  const hits: string[] = [];
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const path = join(e.parentPath, e.name);
    const text = readFileSync(path, 'latin1');
    if (needles.some((n) => text.includes(n))) hits.push(path);
  }
  return hits;
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await delay(50);
  }
}

describe('berth run: git temp folders of a killed process', () => {
  let fx: RunFixture | null = null;
  afterEach(async () => {
    await fx?.close();
    fx = null;
  });

  it('are not made; those an older berth left are removed at the next start of the same runner, those of a live runner and of other runners kept', async () => {
    fx = await createRunFixture();
    fx.writeConfig({ concurrent: 1 });
    const systemId = randomId('r_');
    writeFileSync(join(fx.dir, 'config', '.runner_system_id'), systemId, { mode: 0o600 });
    const tmp = join(fx.dir, 'tmp');
    mkdirSync(tmp);
    // Another live runner with the same system id (this test process stands for it), and a dead one of another system id.
    const liveSameId = `berth-git-${systemId}-${process.pid}-keep01`;
    const otherRunner = `berth-git-${randomId('r_')}-999999-keep02`;
    for (const d of [liveSameId, otherRunner]) mkdirSync(join(tmp, d));
    const env = { TMPDIR: tmp, DOCKER_HOST: '', DOCKER_TLS_VERIFY: '', DOCKER_CERT_PATH: '' };

    // The git server holds every request: berth's git fetch is running when it is killed.
    const release = fx.git.hold();
    const first = fx.enqueue({ script: ['echo first'] });
    const run1 = fx.start([], env);
    await until(() => fx!.git.requests.some((r) => r.path.endsWith('(held)')), 60_000, 'the git fetch of the first job');
    // The fetch runs with the token in git's environment only: no folder of its own, no file with it.
    const header = `Authorization: Basic ${Buffer.from(`gitlab-ci-token:${first.token}`).toString('base64')}`;
    expect(processesWithEnv(`GIT_CONFIG_VALUE_0=${header}`).length).toBeGreaterThan(0);
    expect(readdirSync(tmp).filter((d) => d.includes(`-${run1.child.pid}-`))).toEqual([]);
    run1.child.kill('SIGKILL');
    expect((await run1.result).signal).toBe('SIGKILL');
    expect(first.final).toBeNull();
    // The orphaned git gets its answer and ends; it leaves nothing in the temp folder.
    release();
    await until(() => processesWithEnv(`GIT_CONFIG_VALUE_0=${header}`).length === 0, 30_000, 'the orphaned git to exit');
    expect(readdirSync(tmp).sort()).toEqual([liveSameId, otherRunner].sort());
    expect(filesContaining(fx.dir, [first.token, header])).toEqual([]);

    // What an older berth of this runner, killed during a fetch, left (its process is gone).
    const olderBerth = `berth-git-${systemId}-${run1.child.pid}-gone03`;
    mkdirSync(join(tmp, olderBerth));
    writeFileSync(join(tmp, olderBerth, 'askpass.sh'), '#!/bin/sh\n', { mode: 0o700 });

    const run2 = fx.start([], env);
    const second = fx.enqueue({ script: ['echo second-ran'] });
    await fx.gl.waitFor(() => second.final !== null, 90_000, `the final update of job ${second.id}`);
    expect(second.final).toMatchObject({ state: 'success' });
    expect(second.trace.toString()).toContain('second-ran');
    expect(run2.stderrSoFar()).toContain('Removed git temp folders an earlier berth process left behind');
    // The older berth's folder went at the start; the second process made none.
    expect(readdirSync(tmp).sort()).toEqual([liveSameId, otherRunner].sort());
    run2.child.kill('SIGQUIT');
    expect((await run2.result).code).toBe(0);
    expect(await findLeftovers(new DockerodeEngine({ host: 'unix:///var/run/docker.sock' }), fx.labelFilter)).toEqual(NO_LEFTOVERS);
  }, 150_000);
});
