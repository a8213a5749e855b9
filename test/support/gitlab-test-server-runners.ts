/**
 * The runners the GitLab test server knows, and the runner-scoped endpoints: authentication
 * (RUNNER-TOKEN header equal to the body `token`), register, verify, unregister (runner and
 * manager) and token reset.
 */
import { type Incoming, reply, replyJson } from './gitlab-test-server-http.js';
import { newQueueValue, randomToken, type RunnerRecord } from './gitlab-test-server-state.js';

export interface RunnerRegistryOptions {
  /**
   * GitLab's runner token expiration setting (`runner_token_expiration_interval`, in seconds):
   * a reset token expires this long after the reset. null (default): tokens do not expire.
   */
  tokenExpiresInSeconds?: () => number | null;
  now?: () => number;
}

export class RunnerRegistry {
  private readonly runners = new Map<string, RunnerRecord>();
  private nextId = 1;

  constructor(private readonly opts: RunnerRegistryOptions = {}) {}

  add(token = randomToken('glrt-'), opts: { paused?: boolean } = {}): RunnerRecord {
    const r: RunnerRecord = { id: this.nextId++, token, paused: opts.paused ?? false, queueValue: newQueueValue(), systemIds: new Set() };
    this.runners.set(token, r);
    return r;
  }

  get(token: string): RunnerRecord | undefined {
    return this.runners.get(token);
  }

  first(): RunnerRecord {
    const r = this.runners.values().next().value;
    if (!r) throw new Error('GitLabTestServer: no runner is registered');
    return r;
  }

  all(): IterableIterator<RunnerRecord> {
    return this.runners.values();
  }

  /** RUNNER-TOKEN must be present and equal the body token; returns the runner or answers. */
  authenticate(inc: Incoming): RunnerRecord | null {
    const json = inc.record.json as { token?: unknown } | undefined;
    const bodyToken = typeof json?.token === 'string' ? json.token : undefined;
    const headerToken = inc.req.headers['runner-token'];
    if (!bodyToken) {
      reply(inc, 400, '400 Bad request - token is missing');
      return null;
    }
    if (headerToken !== bodyToken) {
      reply(inc, 400, '400 Bad request - RUNNER-TOKEN header does not match the body token');
      return null;
    }
    const runner = this.runners.get(bodyToken);
    if (!runner) {
      reply(inc, 403, '403 Forbidden');
      return null;
    }
    return runner;
  }

  /** POST /runners with the legacy registration token. */
  register(inc: Incoming, registrationToken: string): void {
    const json = inc.record.json as { token?: unknown } | undefined;
    if (inc.req.headers['runner-token'] !== json?.token) return reply(inc, 400, '400 Bad request - RUNNER-TOKEN header does not match the body token');
    if (json?.token !== registrationToken) return reply(inc, 403, '403 Forbidden');
    const r = this.add();
    replyJson(inc, 201, { id: r.id, token: r.token, token_expires_at: null });
  }

  /** POST /runners/verify: JSON, or the plain "200" of older GitLab. */
  verify(inc: Incoming, legacy: boolean): void {
    const r = this.authenticate(inc);
    if (!r) return;
    const systemId = (inc.record.json as { system_id?: unknown }).system_id;
    if (typeof systemId === 'string' && systemId) r.systemIds.add(systemId);
    if (legacy) return reply(inc, 200, '200');
    replyJson(inc, 200, { id: r.id, token: r.token, token_expires_at: null });
  }

  /** DELETE /runners and DELETE /runners/managers. */
  unregister(inc: Incoming, endpoint: 'unregister' | 'unregister-manager'): void {
    const r = this.authenticate(inc);
    if (!r) return;
    if (endpoint === 'unregister') this.runners.delete(r.token);
    else {
      const systemId = (inc.record.json as { system_id?: unknown }).system_id;
      if (typeof systemId !== 'string' || !systemId) return reply(inc, 400, '400 Bad request - system_id is missing');
      r.systemIds.delete(systemId);
    }
    reply(inc, 204, '');
  }

  /**
   * POST /runners/reset_authentication_token with the current token (GitLab's runners API):
   * 201 with `{token, token_expires_at}` (null when tokens do not expire); the old token stops
   * working at once (403 on every call), as GitLab revokes it.
   */
  resetToken(inc: Incoming): void {
    const r = this.authenticate(inc);
    if (!r) return;
    this.runners.delete(r.token);
    r.token = randomToken('glrt-');
    this.runners.set(r.token, r);
    const ttl = this.opts.tokenExpiresInSeconds?.() ?? null;
    const now = this.opts.now?.() ?? Date.now();
    replyJson(inc, 201, { token: r.token, token_expires_at: ttl === null ? null : new Date(now + ttl * 1000).toISOString() });
  }
}
