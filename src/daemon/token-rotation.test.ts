import { describe, expect, it } from 'vitest';
import { parseTestConfig, runnerConfigText, testRunnerConfig } from '../../test/support/runner-config.js';
import type { RunnerConfig } from '../config/berth-config.js';
import type { RunnerUpdate } from '../config/update-runner-in-config.js';
import { GitLabApiError } from '../gitlab/gitlab-api-error.js';
import { shortToken } from '../gitlab/short-token.js';
import { tokenResetTime, TokenRotator, type RotatedToken } from './token-rotation.js';

const NOW = Date.parse('2026-03-01T12:00:00Z');
const HOUR = 3_600_000;
const OLD = 'glrt-oldtoken0123456789ab';
const NEW = 'glrt-newtoken9876543210zy';

function runner(token: string, obtainedAt: number, expiresAt: number | null, extra: string[] = []): RunnerConfig {
  return testRunnerConfig({
    url: 'http://127.0.0.1:1',
    token,
    runner: [
      `token_obtained_at = ${new Date(obtainedAt).toISOString()}`,
      `token_expires_at = ${expiresAt === null ? '0001-01-01T00:00:00Z' : new Date(expiresAt).toISOString()}`,
      ...extra,
    ],
  });
}

/** config.toml as a list of runners; `saveFails` makes the next saves throw. */
class FakeFile {
  saves = 0;
  saveFails = 0;
  constructor(public runners: RunnerConfig[]) {}
  update = async (token: string, change: (r: RunnerConfig) => boolean | Promise<boolean>): Promise<RunnerUpdate> => {
    const copy = this.runners.map((r) => structuredClone(r));
    const r = copy.find((x) => x.token === token);
    if (!r) return 'not-found';
    if (!(await change(r))) return 'unchanged';
    if (this.saveFails > 0) {
      this.saveFails--;
      throw new Error('Failed to save config file config.toml: ENOSPC: no space left on device');
    }
    this.runners = copy;
    this.saves++;
    return 'saved';
  };
}

function setup(runners: RunnerConfig[], reset: (r: RunnerConfig) => Promise<{ token: string; tokenExpiresAt: string }>) {
  const file = new FakeFile(runners);
  const lines: string[] = [];
  const rotations: [string, RotatedToken][] = [];
  const calls: string[] = [];
  let now = NOW;
  const rotator = new TokenRotator({
    resetToken: (r) => {
      calls.push(r.token);
      return reset(r);
    },
    updateFile: file.update,
    rotated: (old, next) => rotations.push([old, next]),
    log: {
      info: (m, f) => lines.push(`info ${m} ${JSON.stringify(f ?? {})}`),
      warn: (m, f) => lines.push(`warn ${m} ${JSON.stringify(f ?? {})}`),
      error: (m, f) => lines.push(`error ${m} ${JSON.stringify(f ?? {})}`),
    },
    systemId: 's_0123456789ab',
    now: () => now,
  });
  return { file, lines, rotations, calls, rotator, setNow: (t: number) => (now = t), current: () => file.runners };
}

const forbidden = (): GitLabApiError =>
  new GitLabApiError('Resetting runner authentication token... failed (check used token)', { status: 403, headers: {}, body: Buffer.alloc(0) }, 'http://127.0.0.1:1');

describe('tokenResetTime (gitlab-runner nextRunnerToReset)', () => {
  it('is token_obtained_at + 75 % of the token\'s life; null when the token does not expire', () => {
    const r = (o: string, e: string) => tokenResetTime({ tokenObtainedAt: o, tokenExpiresAt: e });
    expect(r('2022-01-01T00:00:00Z', '2022-01-05T00:00:00Z')).toBe(Date.parse('2022-01-04T00:00:00Z'));
    expect(r('2022-01-01T00:00:00Z', '')).toBeNull();
    // No token_obtained_at (Go's zero time): due long ago.
    expect(r('', '2022-01-05T00:00:00Z')).toBeLessThan(Date.parse('2000-01-01T00:00:00Z'));
  });
});

describe('TokenRotator', () => {
  it('resets a token past 75 % of its life, writes token, token_obtained_at and token_expires_at, and tells the daemon', async () => {
    const t = setup([runner(OLD, NOW - 4 * HOUR, NOW + HOUR)], async () => ({ token: NEW, tokenExpiresAt: '2026-03-08T12:00:00.250Z' }));
    await t.rotator.check(() => t.current());
    expect(t.calls).toEqual([OLD]);
    expect(t.current()[0]).toMatchObject({ token: NEW, tokenObtainedAt: '2026-03-01T12:00:00Z', tokenExpiresAt: '2026-03-08T12:00:00.250Z' });
    expect(t.rotations).toEqual([[OLD, { token: NEW, tokenObtainedAt: '2026-03-01T12:00:00Z', tokenExpiresAt: '2026-03-08T12:00:00.250Z' }]]);
    expect(t.lines).toEqual([`info Resetting runner authentication token... succeeded {"runner":"${shortToken(OLD)}","runner_name":"unit-runner"}`]);
    // The new token is not due before 75 % of its new life.
    await t.rotator.check(() => t.current());
    expect(t.calls).toHaveLength(1);
  });

  it('leaves a token alone before 75 % of its life, and one that does not expire', async () => {
    const t = setup([runner(OLD, NOW - 2 * HOUR, NOW + 2 * HOUR), runner(NEW, NOW - 100 * HOUR, null)], async () => {
      throw new Error('not called');
    });
    await t.rotator.check(() => t.current());
    expect(t.calls).toEqual([]);
    t.setNow(NOW + HOUR);
    await t.rotator.check(() => t.current());
    expect(t.calls).toEqual([OLD]);
  });

  it('a 403 is logged as gitlab-runner logs it, the old token is kept, and the next check tries again', async () => {
    let refuse = true;
    const t = setup([runner(OLD, NOW - 4 * HOUR, NOW + HOUR)], async () => {
      if (refuse) throw forbidden();
      return { token: NEW, tokenExpiresAt: '' };
    });
    await t.rotator.check(() => t.current());
    expect(t.lines).toEqual([`error Resetting runner authentication token... failed (check used token) {"runner":"${shortToken(OLD)}","runner_name":"unit-runner","status":"403 Forbidden"}`]);
    expect(t.current()[0]!.token).toBe(OLD);
    expect(t.file.saves).toBe(0);
    expect(t.rotations).toEqual([]);
    refuse = false;
    await t.rotator.check(() => t.current());
    expect(t.calls).toEqual([OLD, OLD]);
    expect(t.current()[0]).toMatchObject({ token: NEW, tokenExpiresAt: '' });
  });

  it('GitLab not answering is a client error; other statuses are "failed"', async () => {
    const errors = [new Error('connect ECONNREFUSED 127.0.0.1:1'), new GitLabApiError('x', { status: 500, headers: {}, body: Buffer.alloc(0) }, 'http://127.0.0.1:1')];
    const t = setup([runner(OLD, NOW - 4 * HOUR, NOW + HOUR)], async () => {
      throw errors.shift()!;
    });
    await t.rotator.check(() => t.current());
    await t.rotator.check(() => t.current());
    expect(t.lines[0]).toMatch(/^error Resetting runner authentication token\.\.\. client error .*ECONNREFUSED/);
    expect(t.lines[1]).toContain('error Resetting runner authentication token... failed {');
    expect(t.lines[1]).toContain('"status":"500 Internal Server Error"');
  });

  it('a new token that cannot be saved is used at once and saved at a later check', async () => {
    const t = setup([runner(OLD, NOW - 4 * HOUR, NOW + HOUR)], async () => ({ token: NEW, tokenExpiresAt: '2026-03-08T12:00:00Z' }));
    t.file.saveFails = 2;
    await t.rotator.check(() => t.current());
    expect(t.rotations.map(([old, next]) => [old, next.token])).toEqual([[OLD, NEW]]);
    expect(t.current()[0]!.token).toBe(OLD);
    expect(t.lines[1]).toMatch(/^error Failed to save config: .*ENOSPC.*The new token is used and saving is retried/);
    // The daemon runs with the new token; the file still holds the old one.
    const inMemory = () => t.rotator.apply(parseTestConfig(runnerConfigText({ url: 'http://127.0.0.1:1', token: OLD }))).runners;
    await t.rotator.check(inMemory);
    expect(t.current()[0]!.token).toBe(OLD);
    await t.rotator.check(inMemory);
    expect(t.current()[0]).toMatchObject({ token: NEW, tokenExpiresAt: '2026-03-08T12:00:00Z' });
    expect(t.calls).toEqual([OLD]);
    // The same error twice is logged once; success is logged.
    expect(t.lines.filter((l) => l.includes('ENOSPC'))).toHaveLength(1);
    expect(t.lines.at(-1)).toContain('info Saved the new runner authentication token in the config file');
  });

  it('apply() puts the rotated token into a config that still holds the old one, and leaves other runners alone', async () => {
    const t = setup([runner(OLD, NOW - 4 * HOUR, NOW + HOUR)], async () => ({ token: NEW, tokenExpiresAt: '' }));
    await t.rotator.check(() => t.current());
    const reloaded = parseTestConfig(
      runnerConfigText({ url: 'http://127.0.0.1:1', token: OLD, runner: ['limit = 2'] }) +
        runnerConfigText({ url: 'http://127.0.0.1:1', token: 'glrt-other-runner-token' }).replace(/^[\s\S]*?\[\[runners\]\]/, '[[runners]]'),
    );
    const applied = t.rotator.apply(reloaded);
    expect(applied.runners.map((r) => r.token)).toEqual([NEW, 'glrt-other-runner-token']);
    expect(applied.runners[0]).toMatchObject({ limit: 2, tokenObtainedAt: '2026-03-01T12:00:00Z' });
    expect(t.rotator.retiredTokens).toEqual([OLD]);
    expect(t.rotator.apply(t.rotator.apply(reloaded)).runners[0]!.token).toBe(NEW);
  });

  it('applyLoaded(): a file put back with the old token gets the new one at the next check, without another reset', async () => {
    const t = setup([runner(OLD, NOW - 4 * HOUR, NOW + HOUR)], async () => ({ token: NEW, tokenExpiresAt: '2026-03-08T12:00:00Z' }));
    await t.rotator.check(() => t.current());
    t.file.runners = [runner(OLD, NOW - 4 * HOUR, NOW + HOUR)];
    const loaded = t.rotator.applyLoaded(parseTestConfig(runnerConfigText({ url: 'http://127.0.0.1:1', token: OLD })));
    expect(loaded.runners[0]!.token).toBe(NEW);
    await t.rotator.check(() => loaded.runners);
    expect(t.current()[0]).toMatchObject({ token: NEW, tokenExpiresAt: '2026-03-08T12:00:00Z' });
    expect(t.calls).toEqual([OLD]);
  });

  it('FF_DISABLE_AUTOMATIC_TOKEN_ROTATION: no reset, one warning', async () => {
    const t = setup([runner(OLD, NOW - 4 * HOUR, NOW + HOUR, ['[runners.feature_flags]', '  FF_DISABLE_AUTOMATIC_TOKEN_ROTATION = true'])], async () => ({ token: NEW, tokenExpiresAt: '' }));
    await t.rotator.check(() => t.current());
    await t.rotator.check(() => t.current());
    expect(t.calls).toEqual([]);
    expect(t.lines).toEqual([
      `warn Automatic token rotation is disabled for runner: ${shortToken(OLD)}-s_0123456789ab. Your token is about to expire {"runner":"${shortToken(OLD)}","runner_name":"unit-runner"}`,
    ]);
  });

  it('a runner no longer in the file is not reset', async () => {
    const t = setup([], async () => ({ token: NEW, tokenExpiresAt: '' }));
    await t.rotator.check(() => [runner(OLD, NOW - 4 * HOUR, NOW + HOUR)]);
    expect(t.calls).toEqual([]);
    expect(t.lines[0]).toContain('error Failed to load config (token reset): the runner is no longer in the config file');
  });

  it('never logs a token', async () => {
    const t = setup([runner(OLD, NOW - 4 * HOUR, NOW + HOUR)], async () => ({ token: NEW, tokenExpiresAt: '' }));
    t.file.saveFails = 1;
    await t.rotator.check(() => t.current());
    await t.rotator.check(() => t.current());
    const all = t.lines.join('\n');
    expect(all).not.toContain(OLD);
    expect(all).not.toContain(NEW);
  });
});
