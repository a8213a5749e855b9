/**
 * Which Docker engine berth talks to, and how: `host` (unix socket or tcp://) with TLS settings
 * as gitlab-runner's `[runners.docker]` keys (`host`, `tls_verify`, `tls_cert_path` holding
 * ca.pem, cert.pem and key.pem), else Docker's own variables DOCKER_HOST, DOCKER_TLS_VERIFY and
 * DOCKER_CERT_PATH (as the Docker CLI and Go client read them: docker/cli's cli/flags and
 * docker/docker's client/options.go WithTLSClientConfigFromEnv, which gitlab-runner's
 * helpers/docker client also uses when no host is configured), else the default socket.
 */
import type Docker from 'dockerode';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { EngineError } from './engine-error.js';
import { connectTimeoutAgent } from './connect-timeout-agent.js';

/** How long a TCP connection to a tcp:// engine may take before the call fails (ETIMEDOUT). */
export const ENGINE_CONNECT_TIMEOUT_MS = 20_000;

export interface EngineConnection {
  /** unix:///path, tcp://host:port, or undefined for DOCKER_HOST / the default socket. */
  host?: string;
  /** TLS and verify the engine's certificate; undefined: DOCKER_TLS_VERIFY (any non-empty value). */
  tlsVerify?: boolean;
  /** Folder with ca.pem, cert.pem, key.pem; undefined: DOCKER_CERT_PATH; '': none. */
  tlsCertPath?: string;
}

/** An EngineConnection with every default applied. */
export interface ResolvedEngineConnection {
  host: string;
  /** The engine speaks TLS (tls_verify, DOCKER_TLS_VERIFY or a certificate folder). */
  tls: boolean;
  /** The engine's certificate is checked against ca.pem (or the system CAs) and its name. */
  tlsVerify: boolean;
  /** '' when there is none. */
  tlsCertPath: string;
}

const DEFAULT_SOCKET = 'unix:///var/run/docker.sock';

/** Applies the defaults: explicit settings first, then Docker's variables in `env`. */
export function resolveEngineConnection(conn: EngineConnection = {}, env: NodeJS.ProcessEnv = process.env): ResolvedEngineConnection {
  const host = conn.host || env.DOCKER_HOST || DEFAULT_SOCKET;
  // The Docker CLI treats any non-empty DOCKER_TLS_VERIFY as "on" (docker/cli cli/flags).
  const tlsVerify = conn.tlsVerify ?? Boolean(env.DOCKER_TLS_VERIFY);
  // DOCKER_CERT_PATH defaults to ~/.docker when TLS verification is on (docker/cli cli/flags).
  const tlsCertPath = conn.tlsCertPath ?? (env.DOCKER_CERT_PATH || (tlsVerify ? join(homedir(), '.docker') : ''));
  return { host, tls: tlsVerify || tlsCertPath !== '', tlsVerify, tlsCertPath };
}

/** The endpoint berth talks to, for messages (credentials in a tcp URL are left out). */
export function engineEndpoint(conn: EngineConnection = {}): string {
  const host = conn.host || process.env.DOCKER_HOST || DEFAULT_SOCKET;
  try {
    const url = new URL(host);
    if (url.username || url.password) {
      url.username = '';
      url.password = '';
      return url.toString();
    }
  } catch {
    // not a URL: a socket path
  }
  return host;
}

/**
 * dockerode's options for a connection. Throws an EngineError (operation "connect", status 0,
 * so `unreachable`) naming the endpoint and the file when a TLS file cannot be read; never a
 * file's content.
 */
export function connectionOptions(conn: EngineConnection, env: NodeJS.ProcessEnv = process.env): Docker.DockerOptions {
  const r = resolveEngineConnection(conn, env);
  const host = r.host;
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) };
  if (host.startsWith('/')) return { socketPath: host };
  if (!/^(tcp|https?):\/\//.test(host)) {
    throw new EngineError('connect', 0, `Docker host "${host}" is not supported: use unix:///path/to/docker.sock or tcp://host:port`);
  }
  const tls = r.tls || host.startsWith('https:');
  const url = new URL(host.replace(/^(tcp|https?):/, tls ? 'https:' : 'http:'));
  const opts: Docker.DockerOptions = {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port || (tls ? 2376 : 2375),
    protocol: tls ? 'https' : 'http',
  };
  if (!tls) {
    (opts as { agent?: unknown }).agent = connectTimeoutAgent(false, {}, ENGINE_CONNECT_TIMEOUT_MS);
    return opts;
  }
  const endpoint = engineEndpoint({ host });
  const read = (file: string, what: string): Buffer => {
    const path = join(r.tlsCertPath, file);
    try {
      return readFileSync(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new EngineError(
        'connect',
        0,
        `Cannot use the Docker engine at ${endpoint}: cannot read the TLS ${what} ${path} (${code}); ` +
          'point DOCKER_CERT_PATH, --docker-cert-path or [runners.docker] tls_cert_path at a folder with ca.pem, cert.pem and key.pem',
        { cause: err },
      );
    }
  };
  if (r.tlsCertPath) {
    // As Docker: the CA only matters when the engine's certificate is verified.
    if (r.tlsVerify) opts.ca = read('ca.pem', 'CA certificate');
    opts.cert = read('cert.pem', 'client certificate');
    opts.key = read('key.pem', 'client key');
  }
  // Without verification (a certificate folder without tls_verify / DOCKER_TLS_VERIFY) as Docker's
  // client does (InsecureSkipVerify): dockerode has no option for it but the agent.
  (opts as { agent?: unknown }).agent = connectTimeoutAgent(
    true,
    { ca: opts.ca, cert: opts.cert, key: opts.key, rejectUnauthorized: r.tlsVerify },
    ENGINE_CONNECT_TIMEOUT_MS,
  );
  return opts;
}
