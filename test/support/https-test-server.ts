/**
 * An HTTPS server on 127.0.0.1 for include:remote tests: a self-signed certificate for
 * 127.0.0.1 made with openssl in a temporary folder (its PEM is the CA file to trust), and
 * fixed answers per path. Records the paths asked for.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

export interface HttpsRoute {
  status?: number;
  body?: string | Buffer;
  headers?: Record<string, string>;
}

export interface HttpsTestServer {
  url: string;
  /** The self-signed certificate (PEM file), to pass as --include-ca. */
  caFile: string;
  routes: Map<string, HttpsRoute>;
  requests: string[];
  /** Stops answering (the CA file stays until `cleanup`). */
  close(): Promise<void>;
  cleanup(): Promise<void>;
}

/** `name`: the certificate is for that DNS name too (a server reached through a proxy that resolves it). */
export async function startHttpsTestServer(opts: { name?: string } = {}): Promise<HttpsTestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'berth-https-'));
  const caFile = join(dir, 'cert.pem');
  const keyFile = join(dir, 'key.pem');
  const san = `subjectAltName=IP:127.0.0.1${opts.name ? `,DNS:${opts.name}` : ''}`;
  await promisify(execFile)('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', san, '-keyout', keyFile, '-out', caFile,
  ]);
  const routes = new Map<string, HttpsRoute>();
  const requests: string[] = [];
  const server = createServer({ key: await readFile(keyFile), cert: await readFile(caFile) }, (req, res) => {
    const path = new URL(req.url ?? '/', 'https://127.0.0.1').pathname;
    requests.push(path);
    const route = routes.get(path);
    if (!route) return void res.writeHead(404).end('not found\n');
    res.writeHead(route.status ?? 200, route.headers ?? {}).end(route.body ?? '');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    caFile,
    routes,
    requests,
    close: async () => {
      server.closeAllConnections();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
