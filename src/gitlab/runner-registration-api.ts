/**
 * The part of GitLab's runner API that `register`, `verify` and `unregister` need.
 * GitLabClient implements it; config/ and the CLI depend on this interface only.
 * Tokens are secrets: implementations never log them.
 */

export interface RunnerInfo {
  name: string;
  version: string;
  revision: string;
  platform: string;
  architecture: string;
  executor: string;
  shell: string;
}

export interface RegisterRunnerRequest {
  /** Legacy registration token. */
  registrationToken: string;
  description: string;
  maintenanceNote: string;
  tagList: string[];
  runUntagged: boolean;
  locked: boolean;
  accessLevel: 'not_protected' | 'ref_protected' | '';
  maximumTimeout: number;
  paused: boolean;
  info: RunnerInfo;
}

export interface RunnerCredentials {
  id: number;
  token: string;
  /** ISO 8601, or empty when the token does not expire. */
  tokenExpiresAt: string;
}

export interface RunnerRegistrationApi {
  /** POST /api/v4/runners (legacy registration token). */
  registerRunner(url: string, req: RegisterRunnerRequest): Promise<RunnerCredentials>;
  /**
   * POST /api/v4/runners/verify. Resolves with the credentials GitLab returns (id 0 and the
   * given token when an old GitLab answers the plain body "200"); rejects when the token is invalid.
   */
  verifyRunner(url: string, token: string, systemId: string, info: RunnerInfo): Promise<RunnerCredentials>;
  /** DELETE /api/v4/runners. */
  unregisterRunner(url: string, token: string): Promise<void>;
  /** DELETE /api/v4/runners/managers (glrt- tokens). */
  unregisterRunnerManager(url: string, token: string, systemId: string): Promise<void>;
}
