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

/** Socket errors meaning that no engine answered at the endpoint. */
const UNREACHABLE_CODES = new Set(['ENOENT', 'ECONNREFUSED', 'EACCES', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * Node's TLS errors (verification of the engine's certificate, or an alert from the engine that
 * refused berth's client certificate): certificate problems, not an engine that is down.
 */
function isTlsError(code: string | undefined): boolean {
  if (!code) return false;
  return (
    code.startsWith('ERR_SSL_') ||
    code.startsWith('ERR_TLS_') ||
    code === 'EPROTO' ||
    /^(UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|CERT_|HOSTNAME_MISMATCH)/.test(code)
  );
}

/**
 * Wraps anything dockerode or the socket threw into an EngineError (AbortErrors pass through).
 * `endpoint` (engineEndpoint()) is named in connection and certificate errors.
 */
export function toEngineError(operation: string, err: unknown, endpoint?: string): Error {
  if (err instanceof EngineError) return err;
  if (err instanceof Error && isAbortError(err)) return err;
  const e = err as { statusCode?: number; json?: { message?: string }; reason?: string; message?: string; code?: string };
  const status = typeof e?.statusCode === 'number' ? e.statusCode : 0;
  const detail = e?.json?.message ?? e?.message ?? String(err);
  const at = endpoint ? ` at ${endpoint}` : '';
  if (status === 0 && isTlsError(e?.code)) {
    return new EngineError(
      operation,
      0,
      `TLS with the Docker engine${at} failed (${e.code}): ${detail}. Check that ca.pem is the CA that signed the engine's ` +
        "certificate, that the certificate names the host berth dials, and that cert.pem/key.pem are a client certificate the engine's CA signed " +
        '(DOCKER_CERT_PATH, --docker-cert-path or [runners.docker] tls_cert_path)',
      { cause: err },
    );
  }
  if (status === 0 && e?.code && UNREACHABLE_CODES.has(e.code)) {
    return new EngineError(
      operation,
      0,
      `Cannot reach the Docker engine${at} (${e.code}): ${detail}. Is dockerd running, and is DOCKER_HOST or [runners.docker] host right?`,
      { cause: err },
    );
  }
  if (status === 400 && /HTTP request to an HTTPS server/i.test(detail)) {
    // dockerd's answer to plain HTTP on its TLS port.
    return new EngineError(
      operation,
      status,
      `The Docker engine${at} speaks TLS, but berth spoke plain HTTP: set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH ` +
        '(--docker-tls-verify/--docker-cert-path, or [runners.docker] tls_verify and tls_cert_path)',
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
  readonly endpoint: string;

  constructor(command: string, endpoint: string, cause: unknown) {
    const reason = errorMessage(cause);
    // The engine's own errors name the endpoint already (toEngineError): say it once.
    super(
      'engine_unavailable',
      reason.includes(endpoint) ? `${command} cannot run jobs: ${reason}` : `${command} cannot run jobs: the Docker engine at ${endpoint} cannot be used: ${reason}`,
      { cause },
    );
    this.endpoint = endpoint;
  }
}
