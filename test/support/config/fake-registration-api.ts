/**
 * A RunnerRegistrationApi test double: records every call, answers from a script. Errors carry
 * an HTTP `status` like GitLabApiError does.
 */
import type { RegisterRunnerRequest, RunnerCredentials, RunnerInfo, RunnerRegistrationApi } from '../../../src/gitlab/runner-registration-api.js';

export type FakeCall =
  | { method: 'registerRunner'; url: string; req: RegisterRunnerRequest }
  | { method: 'verifyRunner'; url: string; token: string; systemId: string; info: RunnerInfo }
  | { method: 'unregisterRunner'; url: string; token: string }
  | { method: 'unregisterRunnerManager'; url: string; token: string; systemId: string };

export class FakeApiError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export interface FakeScript {
  register?: (req: RegisterRunnerRequest) => RunnerCredentials | Error;
  /** Per token: credentials, or an error (a FakeApiError with status 403 = invalid token). */
  verify?: (token: string) => RunnerCredentials | Error;
  unregister?: (token: string) => Error | undefined;
}

export class FakeRegistrationApi implements RunnerRegistrationApi {
  readonly calls: FakeCall[] = [];
  /** The options each client was built with (tls-ca-file). */
  readonly builtWith: { tlsCaFile?: string }[] = [];
  closed = 0;

  constructor(private readonly script: FakeScript = {}) {}

  /** A `registrationApi` dependency that hands out this fake. */
  factory = async (opts: { tlsCaFile?: string }): Promise<RunnerRegistrationApi> => {
    this.builtWith.push(opts);
    return this;
  };

  close(): void {
    this.closed++;
  }

  async registerRunner(url: string, req: RegisterRunnerRequest): Promise<RunnerCredentials> {
    this.calls.push({ method: 'registerRunner', url, req });
    return answer(this.script.register?.(req) ?? { id: 101, token: 'glrt-fromregistration123', tokenExpiresAt: '' });
  }

  async verifyRunner(url: string, token: string, systemId: string, info: RunnerInfo): Promise<RunnerCredentials> {
    this.calls.push({ method: 'verifyRunner', url, token, systemId, info });
    return answer(this.script.verify?.(token) ?? { id: 202, token, tokenExpiresAt: '' });
  }

  async unregisterRunner(url: string, token: string): Promise<void> {
    this.calls.push({ method: 'unregisterRunner', url, token });
    const err = this.script.unregister?.(token);
    if (err) throw err;
  }

  async unregisterRunnerManager(url: string, token: string, systemId: string): Promise<void> {
    this.calls.push({ method: 'unregisterRunnerManager', url, token, systemId });
    const err = this.script.unregister?.(token);
    if (err) throw err;
  }

  methods(): string[] {
    return this.calls.map((c) => c.method);
  }
}

function answer<T>(value: T | Error): T {
  if (value instanceof Error) throw value;
  return value;
}
