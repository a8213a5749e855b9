/**
 * Which Docker engine berth talks to: `host` (unix socket or tcp://), TLS settings as
 * gitlab-runner's `[runners.docker]` keys, else DOCKER_HOST, else the default socket.
 */
import type Docker from 'dockerode';
import { readFileSync } from 'node:fs';
import { EngineError } from './engine-error.js';

export interface EngineConnection {
  /** unix:///path, tcp://host:port, or undefined for DOCKER_HOST / the default socket. */
  host?: string;
  tlsVerify?: boolean;
  /** Folder with ca.pem, cert.pem, key.pem. */
  tlsCertPath?: string;
}

/** The endpoint berth talks to, for messages (credentials in a tcp URL are left out). */
export function engineEndpoint(conn: EngineConnection = {}): string {
  const host = conn.host || process.env.DOCKER_HOST || 'unix:///var/run/docker.sock';
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

export function connectionOptions(conn: EngineConnection): Docker.DockerOptions {
  const host = conn.host || process.env.DOCKER_HOST || 'unix:///var/run/docker.sock';
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) };
  if (host.startsWith('/')) return { socketPath: host };
  if (!/^(tcp|https?):\/\//.test(host)) {
    throw new EngineError('connect', 0, `Docker host "${host}" is not supported: use unix:///path/to/docker.sock or tcp://host:port`);
  }
  const url = new URL(host.replace(/^tcp:/, conn.tlsVerify || conn.tlsCertPath ? 'https:' : 'http:'));
  const opts: Docker.DockerOptions = {
    host: url.hostname,
    port: url.port || (url.protocol === 'https:' ? 2376 : 2375),
    protocol: url.protocol === 'https:' ? 'https' : 'http',
  };
  if (conn.tlsCertPath) {
    opts.ca = readFileSync(`${conn.tlsCertPath}/ca.pem`);
    opts.cert = readFileSync(`${conn.tlsCertPath}/cert.pem`);
    opts.key = readFileSync(`${conn.tlsCertPath}/key.pem`);
  }
  return opts;
}
