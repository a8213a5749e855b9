/**
 * checkRegistryAccess: does the registry accept these credentials? A `/v2/` round trip as the
 * Docker daemon makes it: 401 with `WWW-Authenticate: Basic` → retry with basic auth;
 * `Bearer realm=...` → fetch a token from the realm with the credentials, then retry with it.
 * TLS is verified against the system CAs plus /etc/docker/certs.d/<host:port>/*.crt; a
 * loopback registry that does not speak TLS is tried over plain HTTP, as dockerd does.
 * The steps it reports never contain a secret.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { DOCKER_HUB } from '../image-ref.js';
import type { RegistryCredential } from './registry-credential.js';

export type CheckOutcome = 'accepted' | 'refused' | 'open' | 'no-credentials' | 'unreachable';

export interface RegistryCheckResult {
  outcome: CheckOutcome;
  steps: string[];
}

export interface RegistryCheckOptions {
  certsDir?: string;
  timeoutMs?: number;
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export async function checkRegistryAccess(
  registry: string,
  credential: RegistryCredential | null,
  opts: RegistryCheckOptions = {},
): Promise<RegistryCheckResult> {
  const host = registry === DOCKER_HUB ? 'registry-1.docker.io' : registry;
  const ca = trustedCAs(opts.certsDir ?? '/etc/docker/certs.d', registry);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const steps: string[] = [];
  const get = (url: string, headers: Record<string, string> = {}, body?: string): Promise<Reply> =>
    send(url, headers, body, ca, timeoutMs);

  let base = `https://${host}`;
  let first: Reply;
  try {
    first = await get(`${base}/v2/`);
  } catch (err) {
    if (!isLoopback(host)) return { outcome: 'unreachable', steps: [`GET ${base}/v2/ failed: ${(err as Error).message}`] };
    steps.push(`GET ${base}/v2/ failed (${(err as Error).message}); a loopback registry may speak plain HTTP`);
    base = `http://${host}`;
    try {
      first = await get(`${base}/v2/`);
    } catch (err2) {
      return { outcome: 'unreachable', steps: [...steps, `GET ${base}/v2/ failed: ${(err2 as Error).message}`] };
    }
  }
  const challenge = String(first.headers['www-authenticate'] ?? '');
  steps.push(`GET ${base}/v2/ → ${first.status}${challenge ? ` (${challenge})` : ''}`);
  if (first.status === 200) return { outcome: 'open', steps: [...steps, 'the registry answers without credentials'] };
  if (first.status !== 401) return { outcome: 'unreachable', steps: [...steps, 'not a registry answer (expected 200 or 401)'] };
  if (!credential) return { outcome: 'no-credentials', steps: [...steps, 'the registry wants credentials and berth has none for it'] };

  const scheme = challenge.split(' ')[0]?.toLowerCase();
  if (scheme === 'basic') {
    if (credential.kind !== 'basic') return { outcome: 'refused', steps: [...steps, 'the registry wants basic auth, but the credential is an identity token'] };
    const r = await get(`${base}/v2/`, { authorization: basicHeader(credential.username, credential.password) });
    steps.push(`GET ${base}/v2/ with basic auth for "${credential.username}" → ${r.status}`);
    return { outcome: r.status === 200 ? 'accepted' : 'refused', steps };
  }
  if (scheme !== 'bearer') return { outcome: 'refused', steps: [...steps, `unknown authentication scheme "${scheme}"`] };

  const params = challengeParams(challenge);
  if (!params.realm) return { outcome: 'refused', steps: [...steps, 'the Bearer challenge names no realm'] };
  const token = await fetchToken(params, credential, get, steps);
  if (!token) return { outcome: 'refused', steps };
  const r = await get(`${base}/v2/`, { authorization: `Bearer ${token}` });
  steps.push(`GET ${base}/v2/ with the token → ${r.status}`);
  return { outcome: r.status === 200 ? 'accepted' : 'refused', steps };
}

async function fetchToken(
  params: Record<string, string>,
  credential: RegistryCredential,
  get: (url: string, headers?: Record<string, string>, body?: string) => Promise<Reply>,
  steps: string[],
): Promise<string | null> {
  const realm = new URL(params.realm!);
  let r: Reply;
  if (credential.kind === 'basic') {
    if (params.service) realm.searchParams.set('service', params.service);
    if (params.scope) realm.searchParams.set('scope', params.scope);
    r = await get(realm.toString(), { authorization: basicHeader(credential.username, credential.password) });
    steps.push(`GET ${realm.origin}${realm.pathname} (token, basic auth for "${credential.username}") → ${r.status}`);
  } else {
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: credential.identityToken, client_id: 'berth' });
    if (params.service) form.set('service', params.service);
    if (params.scope) form.set('scope', params.scope);
    r = await get(realm.toString(), { 'content-type': 'application/x-www-form-urlencoded' }, form.toString());
    steps.push(`POST ${realm.origin}${realm.pathname} (token, identity token) → ${r.status}`);
  }
  if (r.status !== 200) return null;
  try {
    const body = JSON.parse(r.body) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token ?? null;
    if (!token) steps.push('the token service answered without a token');
    return token;
  } catch {
    steps.push('the token service answered something that is not JSON');
    return null;
  }
}

/** `Bearer realm="https://a/token",service="reg",scope="x"` → {realm, service, scope}. */
export function challengeParams(header: string): Record<string, string> {
  const out: Record<string, string> = {};
  const rest = header.slice(header.indexOf(' ') + 1);
  for (const m of rest.matchAll(/([a-zA-Z_]+)="([^"]*)"/g)) out[m[1]!.toLowerCase()] = m[2]!;
  return out;
}

function basicHeader(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

function isLoopback(host: string): boolean {
  const name = host.replace(/:\d+$/, '');
  return name === 'localhost' || name.startsWith('127.') || name === '[::1]';
}

function trustedCAs(certsDir: string, registry: string): string[] | undefined {
  let files: string[];
  try {
    files = readdirSync(join(certsDir, registry)).filter((f) => f.endsWith('.crt'));
  } catch {
    return undefined;
  }
  if (!files.length) return undefined;
  return [...rootCertificates, ...files.map((f) => readFileSync(join(certsDir, registry, f), 'utf8'))];
}

function send(url: string, headers: Record<string, string>, body: string | undefined, ca: string[] | undefined, timeoutMs: number): Promise<Reply> {
  const u = new URL(url);
  const request = u.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      u,
      { method: body === undefined ? 'GET' : 'POST', headers: { 'user-agent': 'berth', ...headers }, timeout: timeoutMs, ...(ca ? { ca } : {}) },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text = (text + d).slice(0, 1024 * 1024)));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}
