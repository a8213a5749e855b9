/**
 * Real registries for tests: Debian's `docker-registry serve` (distribution 2.8) with htpasswd
 * auth and a storage folder of its own, started and stopped (by PID) by the test that needs it.
 *   - plain HTTP on 127.0.0.1:<free port> (dockerd treats 127.0.0.0/8 as insecure: no TLS needed);
 *   - plain HTTP on a given `listen` address (e.g. 10.212.0.1:5000, the host's end of the remote
 *     engine's veth, which that engine trusts as an insecure registry: scripts/setup-remote-engine.sh);
 *   - TLS as registry.test:5000, after scripts/setup-registry.sh has run (as root).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const TLS_STATE_DIR = '/var/lib/berth-test/registry';
export const TLS_HOST = 'registry.test';
export const TLS_ADDR = '127.0.0.2';
export const TLS_PORT = 5000;

export interface RegistryOptions {
  /** user → password; empty: no authentication. */
  users: Record<string, string>;
  /** Serve TLS as registry.test:5000 (needs scripts/setup-registry.sh). */
  tls?: boolean;
  /** Bearer token auth through a token service (registry-token-server.ts) instead of htpasswd. */
  token?: { realm: string; service: string; issuer: string; certFile: string };
  /** Plain HTTP on this `host:port` instead of 127.0.0.1:<free port> (not with `tls`). */
  listen?: string;
}

export interface TestRegistry {
  /** host:port as image references use it. */
  host: string;
  /** The registry's storage root (`docker/registry/v2/...` below it). */
  storage: string;
  pid: number;
  /** Whether it still runs. */
  readonly running: boolean;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Fails (never skips) with what to run when the TLS set-up is missing. */
export function tlsSetupFiles(): { ca: string; cert: string; key: string } {
  const files = { ca: join(TLS_STATE_DIR, 'ca.crt'), cert: join(TLS_STATE_DIR, 'server.crt'), key: join(TLS_STATE_DIR, 'server.key') };
  const hosts = existsSync('/etc/hosts') ? readFileSync('/etc/hosts', 'utf8') : '';
  if (!Object.values(files).every((f) => existsSync(f)) || !new RegExp(`\\s${TLS_HOST}(\\s|$)`, 'm').test(hosts)) {
    throw new Error(`The TLS registry test needs scripts/setup-registry.sh to have run (as root): ${TLS_STATE_DIR} or the /etc/hosts entry is missing`);
  }
  return files;
}

export async function startRegistry(opts: RegistryOptions): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-registry-'));
  const storage = join(dir, 'data');
  const users = Object.entries(opts.users);
  if (users.length) {
    const lines = users.map(([u, p]) => execFileSync('htpasswd', ['-Bbn', u, p], { encoding: 'utf8' }).trim());
    writeFileSync(join(dir, 'htpasswd'), `${lines.join('\n')}\n`);
  }
  const tls = opts.tls ? tlsSetupFiles() : null;
  if (tls && opts.listen) throw new Error('startRegistry: `listen` is for plain HTTP registries, not with `tls`');
  const port = tls ? TLS_PORT : opts.listen ? Number(opts.listen.split(':')[1]) : await freePort();
  const addr = tls ? `${TLS_ADDR}:${port}` : opts.listen ?? `127.0.0.1:${port}`;
  const host = tls ? `${TLS_HOST}:${port}` : addr;
  const config = [
    'version: 0.1',
    'log: { level: warn, accesslog: { disabled: true } }',
    `storage: { filesystem: { rootdirectory: ${storage} }, delete: { enabled: true } }`,
    `http: { addr: ${addr}, secret: berth-test-secret${tls ? `, tls: { certificate: ${tls.cert}, key: ${tls.key} }` : ''} }`,
    opts.token
      ? `auth: { token: { realm: "${opts.token.realm}", service: ${opts.token.service}, issuer: ${opts.token.issuer}, rootcertbundle: ${opts.token.certFile} } }`
      : users.length
        ? `auth: { htpasswd: { realm: berth-test, path: ${join(dir, 'htpasswd')} } }`
        : '',
  ].join('\n');
  writeFileSync(join(dir, 'config.yml'), `${config}\n`);
  const out = openSync(join(dir, 'registry.log'), 'a');
  const child: ChildProcess = spawn('docker-registry', ['serve', join(dir, 'config.yml')], { stdio: ['ignore', out, out] });
  let exited = false;
  child.on('exit', () => (exited = true));
  const pid = child.pid ?? 0;
  try {
    await waitUntilServing(addr, tls !== null, () => exited);
  } catch (err) {
    if (!exited) child.kill('SIGKILL');
    const log = readFileSync(join(dir, 'registry.log'), 'utf8');
    throw new Error(`docker-registry did not start on ${addr}: ${(err as Error).message}\n${log}`, { cause: err });
  }
  return {
    host,
    storage,
    pid,
    get running() {
      return !exited;
    },
    async stop() {
      if (!exited) {
        const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        process.kill(pid, 'SIGTERM');
        await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
        if (!exited) process.kill(pid, 'SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitUntilServing(addr: string, tls: boolean, exited: () => boolean): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (exited()) throw new Error('the process exited');
    if (await answers(addr, tls)) return;
    if (Date.now() > deadline) throw new Error('no answer on /v2/ within 15 s');
    await new Promise((r) => setTimeout(r, 100));
  }
}

function answers(addr: string, tls: boolean): Promise<boolean> {
  const [hostname, port] = addr.split(':');
  return new Promise((resolve) => {
    const req = (tls ? httpsRequest : httpRequest)(
      { hostname, port: Number(port), path: '/v2/', method: 'GET', timeout: 1000, rejectUnauthorized: false },
      (res) => {
        res.resume();
        resolve(true);
      },
    );
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}
