/**
 * A small Docker registry token service (the `Bearer realm=...` flow) for tests, on
 * 127.0.0.1:<free port>. Issues RS256 JWTs signed by a throwaway self-signed certificate that
 * the registry trusts (`auth.token.rootcertbundle`); the certificate travels in `x5c`.
 *   GET  /token?service&scope           with basic auth       → {token, access_token[, refresh_token]}
 *   POST /token grant_type=password     (username, password)   → {access_token, refresh_token}
 *   POST /token grant_type=refresh_token (refresh_token)       → {access_token}
 * Refresh tokens are the "identity tokens" of Docker configs.
 */
import { execFileSync } from 'node:child_process';
import { createSign, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  /** PEM bundle the registry trusts. */
  certFile: string;
  /** A refresh token (identity token) issued for `username`. */
  issueRefreshToken(username: string): string;
  /** Requests seen, without credentials: "GET basic:user", "POST refresh_token", ... */
  readonly requests: string[];
  stop(): Promise<void>;
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

export async function startTokenServer(users: Record<string, string>): Promise<TokenServer> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-token-'));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2', '-keyout', keyFile, '-out', certFile, '-subj', '/CN=berth test token issuer'], { stdio: 'ignore' });
  const key = readFileSync(keyFile, 'utf8');
  const der = readFileSync(certFile, 'utf8').replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '');
  const service = 'berth-test-registry';
  const issuer = 'berth-test-issuer';
  const refreshTokens = new Map<string, string>();
  const requests: string[] = [];

  const sign = (subject: string, scope: string): string => {
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [der] };
    const claims = { iss: issuer, sub: subject, aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access: parseScope(scope) };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const signature = createSign('RSA-SHA256').update(input).sign(key);
    return `${input}.${b64url(signature)}`;
  };
  const issueRefreshToken = (username: string): string => {
    const t = `refresh-${randomBytes(16).toString('hex')}`;
    refreshTokens.set(t, username);
    return t;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/token') return reply(res, 404, { error: 'not found' });
    let user: string | null = null;
    let refresh: string | undefined;
    let scope = url.searchParams.get('scope') ?? '';
    if (req.method === 'POST') {
      const form = new URLSearchParams(await readBody(req));
      scope = form.get('scope') ?? scope;
      const grant = form.get('grant_type');
      requests.push(`POST ${grant}`);
      if (grant === 'password' && users[form.get('username') ?? ''] === form.get('password')) {
        user = form.get('username');
        refresh = issueRefreshToken(user!);
      } else if (grant === 'refresh_token') user = refreshTokens.get(form.get('refresh_token') ?? '') ?? null;
    } else {
      const [kind, value] = (req.headers.authorization ?? '').split(' ');
      const [u = '', ...p] = kind === 'Basic' && value ? Buffer.from(value, 'base64').toString('utf8').split(':') : [];
      requests.push(`GET ${u ? `basic:${u}` : 'anonymous'}`);
      if (u && users[u] === p.join(':')) user = u;
      if (user && url.searchParams.get('offline_token') === 'true') refresh = issueRefreshToken(user);
    }
    if (!user) return reply(res, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'invalid credentials' }] });
    const token = sign(user, scope);
    reply(res, 200, { token, access_token: token, expires_in: 300, issued_at: new Date().toISOString(), ...(refresh ? { refresh_token: refresh } : {}) });
  };

  const server: Server = createServer((req, res) => void handle(req, res).catch(() => reply(res, 500, {})));
  const port = await new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certFile,
    issueRefreshToken,
    requests,
    async stop() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** `repository:team/app:pull,push repository:x:pull` → access claims. */
function parseScope(scope: string): { type: string; name: string; actions: string[] }[] {
  return scope
    .split(' ')
    .filter(Boolean)
    .map((s) => {
      const first = s.indexOf(':');
      const last = s.lastIndexOf(':');
      return { type: s.slice(0, first), name: s.slice(first + 1, last), actions: s.slice(last + 1).split(',') };
    });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => resolve(body));
    req.on('error', reject);
  });
}

function reply(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
