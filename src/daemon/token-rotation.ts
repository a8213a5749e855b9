/**
 * Runner authentication token rotation in `berth run`, as gitlab-runner's `run` does it
 * (commands/multi.go nextRunnerToReset / resetOneRunnerToken, common/reset_token.go,
 * network/gitlab.go resetToken): a runner whose token expires (`token_expires_at` set) gets a
 * new one once 75 % of its life has passed, `token_obtained_at + 0.75 × (token_expires_at −
 * token_obtained_at)`, through `POST runners/reset_authentication_token` with its current token.
 *
 * Each check re-reads config.toml, resets the token of the runner found there, and saves the
 * new `token`, `token_obtained_at` and `token_expires_at` (atomically, mode 0600). The old token
 * stays in the file until GitLab has answered with the new one; a failed reset (a 403, GitLab
 * not answering) is logged and tried again at the next check, and the runner keeps working
 * with its old token meanwhile. A new token that could not be saved is used at once (GitLab has
 * revoked the old one) and its save is retried at every check. `applyLoaded()` puts the new
 * token into every config the daemon loads later, so a reload of a file that still holds the
 * old token never undoes a rotation (and the new token is written back).
 *
 * gitlab-runner re-arms the reset at once after a failure (the reset time has passed), which
 * repeats a refused reset as fast as GitLab answers; berth waits for the next check
 * (check_interval). `FF_DISABLE_AUTOMATIC_TOKEN_ROTATION` in `[runners.feature_flags]` turns it
 * off for a runner, with a warning (once per token) as in gitlab-runner.
 *
 * Log lines are gitlab-runner's (`Resetting runner authentication token... succeeded`,
 * `... failed (check used token)`); they name the runner by its short token only.
 */
import { STATUS_CODES } from 'node:http';
import type { BerthConfig, RunnerConfig } from '../config/berth-config.js';
import { toIsoDateTime } from '../config/go-values.js';
import type { RunnerUpdate } from '../config/update-runner-in-config.js';
import { GitLabApiError } from '../gitlab/gitlab-api-error.js';
import { shortToken } from '../gitlab/short-token.js';
import { errorMessage } from '../shared/errors.js';
import type { Fields, RunnerLog } from './runner-log.js';

/** gitlab-runner common/consts.go TokenResetIntervalFactor. */
export const TOKEN_RESET_INTERVAL_FACTOR = 0.75;

export const DISABLE_ROTATION_FLAG = 'FF_DISABLE_AUTOMATIC_TOKEN_ROTATION';

/** Go's zero time (`0001-01-01T00:00:00Z`) in ms: an unset token_obtained_at. */
const GO_ZERO_TIME_MS = Date.parse('0001-01-01T00:00:00Z');

/** The credentials a reset gives a runner. */
export interface RotatedToken {
  token: string;
  tokenObtainedAt: string;
  tokenExpiresAt: string;
}

/**
 * When the runner's token is due for a reset (ms since the epoch), or null when it does not
 * expire. An unset token_obtained_at (Go's zero time) makes the reset due at once.
 */
export function tokenResetTime(r: Pick<RunnerConfig, 'tokenObtainedAt' | 'tokenExpiresAt'>): number | null {
  const expires = r.tokenExpiresAt ? Date.parse(r.tokenExpiresAt) : Number.NaN;
  if (Number.isNaN(expires)) return null;
  const parsed = r.tokenObtainedAt ? Date.parse(r.tokenObtainedAt) : Number.NaN;
  const obtained = Number.isNaN(parsed) ? GO_ZERO_TIME_MS : parsed;
  return obtained + TOKEN_RESET_INTERVAL_FACTOR * (expires - obtained);
}

export interface TokenRotatorDeps {
  /** POST runners/reset_authentication_token for this runner (its GitLab client); throws on failure. */
  resetToken: (runner: RunnerConfig) => Promise<{ token: string; tokenExpiresAt: string }>;
  /** Reads config.toml again and changes the runner with `token` (updateRunnerInConfig). */
  updateFile: (token: string, change: (runner: RunnerConfig) => boolean | Promise<boolean>) => Promise<RunnerUpdate>;
  /** Told when a runner's token changed: the daemon puts it into its config and its worker. */
  rotated: (oldToken: string, next: RotatedToken) => void;
  log: Pick<RunnerLog, 'info' | 'warn' | 'error'>;
  systemId: string;
  now?: () => number;
}

interface Unsaved {
  next: RotatedToken;
  lastError: string;
}

export class TokenRotator {
  /** Old token → the credentials that replaced it. */
  private readonly replaced = new Map<string, RotatedToken>();
  /** Old token → new credentials not yet in config.toml. */
  private readonly unsaved = new Map<string, Unsaved>();
  private readonly warned = new Set<string>();
  private running: Promise<void> = Promise.resolve();

  constructor(private readonly deps: TokenRotatorDeps) {}

  /** The tokens rotated away (for masking: they may still be in an old file). */
  get retiredTokens(): string[] {
    return [...this.replaced.keys()];
  }

  /** `config` with every rotated-away token replaced by the credentials that replaced it. */
  apply(config: BerthConfig): BerthConfig {
    if (!this.replaced.size || !config.runners.some((r) => this.replaced.has(r.token))) return config;
    return { ...config, runners: config.runners.map((r) => this.current(r)) };
  }

  /**
   * `apply()` for a config just read from config.toml: when the file still holds a rotated-away
   * token (an older copy put back, a save that lost a race), the new one is written back at the
   * next check.
   */
  applyLoaded(config: BerthConfig): BerthConfig {
    for (const r of config.runners) {
      const next = this.latest(r.token);
      if (next && !this.unsaved.has(r.token)) this.unsaved.set(r.token, { next, lastError: '' });
    }
    return this.apply(config);
  }

  /**
   * Retries unsaved tokens, then resets every token that is due (earliest first, one at a time).
   * Checks run one after the other; `runners` is read when the check starts.
   */
  check(runners: () => readonly RunnerConfig[]): Promise<void> {
    const run = this.running.then(() => this.checkNow(runners()));
    // One failed check (a callback that threw) does not stop the later ones.
    this.running = run.catch(() => undefined);
    return run;
  }

  /** Resolves when no check is under way (a reset in flight is never abandoned half-way). */
  idle(): Promise<void> {
    return this.running;
  }

  /** The credentials that finally replaced `token` (a token may have been rotated more than once). */
  private latest(token: string): RotatedToken | undefined {
    let next: RotatedToken | undefined;
    for (let t = token, hops = 0; this.replaced.has(t) && hops <= this.replaced.size; hops++) {
      next = this.replaced.get(t)!;
      t = next.token;
    }
    return next;
  }

  private current(r: RunnerConfig): RunnerConfig {
    const next = this.latest(r.token);
    if (!next) return r;
    const { url } = r.expandedFrom ?? {};
    const { expandedFrom: _stale, ...rest } = r;
    return { ...rest, ...next, ...(url !== undefined ? { expandedFrom: { url } } : {}) };
  }

  private async checkNow(runners: readonly RunnerConfig[]): Promise<void> {
    for (const [old, u] of [...this.unsaved]) await this.saveAgain(old, u);
    const now = this.now();
    const due = runners
      .map((runner) => ({ runner, at: tokenResetTime(runner) }))
      .filter((d): d is { runner: RunnerConfig; at: number } => d.at !== null && d.at <= now)
      .sort((a, b) => a.at - b.at);
    for (const { runner } of due) {
      if (this.replaced.has(runner.token)) continue;
      await this.rotate(runner);
    }
  }

  private async rotate(runner: RunnerConfig): Promise<void> {
    const fields = fieldsOf(runner);
    if (runner.featureFlags[DISABLE_ROTATION_FLAG]) {
      if (!this.warned.has(runner.token)) {
        this.warned.add(runner.token);
        this.deps.log.warn(`Automatic token rotation is disabled for runner: ${shortToken(runner.token)}-${this.deps.systemId}. Your token is about to expire`, fields);
      }
      return;
    }
    let next: RotatedToken | undefined;
    let outcome: RunnerUpdate;
    try {
      outcome = await this.deps.updateFile(runner.token, async (inFile) => {
        next = await this.reset(inFile);
        if (!next) return false;
        Object.assign(inFile, next);
        return true;
      });
    } catch (err) {
      if (next) {
        // GitLab has revoked the old token: use the new one, and save it at the next checks.
        this.adopt(runner.token, next);
        this.unsaved.set(runner.token, { next, lastError: errorMessage(err) });
        this.deps.log.error(`Failed to save config: ${errorMessage(err)}. The new token is used and saving is retried`, fields);
      } else {
        this.deps.log.error(`Failed to load config (token reset): ${errorMessage(err)}`, fields);
      }
      return;
    }
    if (outcome === 'not-found') {
      this.deps.log.error('Failed to load config (token reset): the runner is no longer in the config file; its token was not reset', fields);
      return;
    }
    if (next) this.adopt(runner.token, next);
  }

  /** The reset call with gitlab-runner's log lines; undefined when it failed. */
  private async reset(runner: RunnerConfig): Promise<RotatedToken | undefined> {
    const fields = fieldsOf(runner);
    const base = 'Resetting runner authentication token...';
    try {
      const res = await this.deps.resetToken(runner);
      if (!res.token) {
        this.deps.log.error(`${base} failed`, { ...fields, status: 'no token in the answer' });
        return undefined;
      }
      this.deps.log.info(`${base} succeeded`, fields);
      return {
        token: res.token,
        tokenObtainedAt: toIsoDateTime(new Date(Math.floor(this.now() / 1000) * 1000)),
        tokenExpiresAt: res.tokenExpiresAt ? toIsoDateTime(new Date(res.tokenExpiresAt)) : '',
      };
    } catch (err) {
      if (err instanceof GitLabApiError) {
        const status = `${err.status} ${STATUS_CODES[err.status] ?? ''}`.trim();
        this.deps.log.error(`${base} ${err.status === 403 ? 'failed (check used token)' : 'failed'}`, { ...fields, status, correlation_id: err.correlationId });
      } else {
        this.deps.log.error(`${base} client error`, { ...fields, error: errorMessage(err) });
      }
      return undefined;
    }
  }

  private adopt(old: string, next: RotatedToken): void {
    this.replaced.set(old, next);
    this.deps.rotated(old, next);
  }

  private async saveAgain(old: string, u: Unsaved): Promise<void> {
    const fields = { runner: shortToken(u.next.token) };
    try {
      const outcome = await this.deps.updateFile(old, (inFile) => {
        Object.assign(inFile, u.next);
        return true;
      });
      // 'not-found': the file no longer holds the old token (saved since, or the runner removed).
      this.unsaved.delete(old);
      if (outcome === 'saved') this.deps.log.info('Saved the new runner authentication token in the config file', fields);
    } catch (err) {
      const message = errorMessage(err);
      if (message !== u.lastError) this.deps.log.error(`Failed to save config: ${message}. Retrying at the next check`, fields);
      u.lastError = message;
    }
  }

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }
}

function fieldsOf(runner: RunnerConfig): Fields {
  return { runner: shortToken(runner.token), ...(runner.name ? { runner_name: runner.name } : {}) };
}
