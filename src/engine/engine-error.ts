import { BerthError, errorMessage, isAbortError } from '../shared/errors.js';

/**
 * An error answered by the Docker engine (or met talking to it). `statusCode` is the HTTP
 * status when the engine answered one; 0 for a connection failure or a pull error event.
 */
export class EngineError extends BerthError {
  readonly statusCode: number;
  readonly operation: string;

  constructor(operation: string, statusCode: number, message: string, options?: { cause?: unknown }) {
    super('engine_error', message, options);
    this.operation = operation;
    this.statusCode = statusCode;
  }

  get notFound(): boolean {
    return this.statusCode === 404;
  }
  get conflict(): boolean {
    return this.statusCode === 409;
  }
  /** No HTTP answer at all: the socket could not be reached or broke. */
  get unreachable(): boolean {
    return this.statusCode === 0 && this.operation !== 'pull';
  }
}

/** Wraps anything dockerode or the socket threw into an EngineError (AbortErrors pass through). */
export function toEngineError(operation: string, err: unknown): Error {
  if (err instanceof EngineError) return err;
  if (err instanceof Error && isAbortError(err)) return err;
  const e = err as { statusCode?: number; json?: { message?: string }; reason?: string; message?: string; code?: string };
  const status = typeof e?.statusCode === 'number' ? e.statusCode : 0;
  const detail = e?.json?.message ?? e?.message ?? String(err);
  if (status === 0 && (e?.code === 'ENOENT' || e?.code === 'ECONNREFUSED' || e?.code === 'EACCES')) {
    return new EngineError(
      operation,
      0,
      `Cannot reach the Docker engine (${e.code}): ${detail}. Is dockerd running, and is DOCKER_HOST or [runners.docker] host right?`,
      { cause: err },
    );
  }
  const message = detail.replace(/^\(HTTP code \d+\)\s*[\w ]*-\s*/, '').trim();
  if (!message) {
    // Something that is not a Docker engine (a web server, a proxy) answered: say so.
    return new EngineError(
      operation,
      status,
      `${operation}: the Docker engine endpoint answered${status ? ` HTTP ${status}` : ''} without a message; ` +
        'check that DOCKER_HOST (or [runners.docker] host) points at a Docker engine API',
      { cause: err },
    );
  }
  return new EngineError(operation, status, message, { cause: err });
}

/**
 * The Docker engine cannot be used at all, before any job ran: a problem of the command
 * (`berth exec`), not of a job, so it is no JobFailure.
 */
export class EngineUnavailableError extends BerthError {
  constructor(command: string, endpoint: string, cause: unknown) {
    super('engine_unavailable', `${command} cannot run jobs: the Docker engine at ${endpoint} cannot be used: ${errorMessage(cause)}`, { cause });
  }
}
