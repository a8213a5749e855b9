/**
 * `include:remote`: an HTTPS GET with Node's https, bounded (timeout, 4 MiB, at most 5
 * redirects, never to http), checked against `integrity: sha256-...` when given, and stored in
 * the include cache. When the fetch fails, the cached copy is used with a warning (berth exec
 * works offline); without one, the include is an error naming the file, line and URL.
 * GitLab itself also accepts http:// URLs; berth refuses them: a pipeline fetched in clear
 * text could be changed on the way, and it runs programs on this machine.
 * node:https, node:tls and node:crypto are loaded when a remote include is fetched or checked,
 * not when berth starts (most pipelines have none; they cost `berth exec --list` start-up time).
 */
import { readFile } from 'node:fs/promises';
import type { Agent, IncomingMessage } from 'node:http';
import { proxySettingsFrom, type ProxySettings } from '../../shared/proxy-env.js';
import { proxyAgentsFor } from '../../shared/proxy-agents-for.js';
import { BerthError, InputError } from '../../shared/errors.js';
import type { IncludeCache } from './include-cache.js';
import { locationPrefix, type Where } from './source-positions.js';
import { IncludeUnavailableError } from './include-unavailable.js';

export interface RemoteFetchOptions {
  cache: IncludeCache;
  maxBytes: number;
  /** Per request (connect and each read); default 30 s. */
  timeoutMs?: number;
  /** `--include-ca FILE`: extra CA certificates (PEM) trusted besides the system ones. */
  caFile?: string;
  /** `--offline`: only the cached copy; without one the include is skipped. */
  offline?: boolean;
  /** HTTPS_PROXY / NO_PROXY (default: berth's environment). */
  proxy?: ProxySettings;
  warn(message: string): void;
}

const MAX_REDIRECTS = 5;
/** Socket errors that mean the server is not there (rather than a server answering wrongly). */
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET']);

/** A network failure: the cached copy may stand in. Never reaches the user as such. */
class FetchFailure extends BerthError {
  /** No answer at all (connection refused, no route, timeout), as opposed to an answer berth refuses. */
  readonly unavailable: boolean;

  constructor(message: string, unavailable = false) {
    super('include_fetch_failed', message);
    this.unavailable = unavailable;
  }
}
/** The file is too large: a wrong file, not the network, so the cache does not stand in. */
class TooLarge extends BerthError {
  constructor(message: string) {
    super('include_fetch_failed', message);
  }
}

/**
 * The body of `url` (fetched, else cached). Throws InputError naming `where` and the URL as
 * written (`shown`: its `$VARIABLES` unexpanded, so a token in a variable is never printed).
 */
export async function fetchRemoteInclude(
  url: string,
  shown: string,
  where: Where | undefined,
  integrity: string | null,
  opts: RemoteFetchOptions,
): Promise<string> {
  const at = locationPrefix(where);
  const fail: (what: string, cause?: unknown) => never = (what, cause) => {
    throw new InputError(`${at}include:remote "${shown}": ${what}`, { file: where?.file, line: where?.line }, { cause });
  };
  // The network (not the pipeline) is missing: the include is skipped with this warning.
  const unavailable = (what: string, cause?: unknown): never => {
    throw new IncludeUnavailableError(`${at}include:remote "${shown}": ${what}`, { file: where?.file, line: where?.line }, { cause });
  };
  const parsed = parseHttpsUrl(url);
  if (parsed === 'http') fail('berth fetches remote includes over https only (a pipeline fetched in clear text could be changed on the way); use an https:// URL');
  if (parsed === null) fail('is not a valid https:// URL');
  const body = opts.offline
    ? ((await opts.cache.readRemote(url, opts.maxBytes)) ?? unavailable('not fetched (--offline) and not in the include cache'))
    : await fetchOrCached(url, parsed, at, shown, opts, fail, unavailable);
  if (integrity !== null) await checkIntegrity(body, integrity, fail);
  return body.toString('utf8');
}

/** The body fetched now (and cached), else the cached copy with a warning. */
async function fetchOrCached(
  url: string,
  parsed: URL,
  at: string,
  shown: string,
  opts: RemoteFetchOptions,
  fail: (what: string, cause?: unknown) => never,
  unavailable: (what: string, cause?: unknown) => never,
): Promise<Buffer> {
  let ca: Buffer | undefined;
  if (opts.caFile) ca = await readFile(opts.caFile).catch((err: unknown) => fail(`cannot read the --include-ca file ${opts.caFile}; check the path`, err));
  let body: Buffer;
  try {
    body = await get(parsed, opts, ca, 0, await loadHttps(opts.proxy ?? proxySettingsFrom()));
    await opts.cache.writeRemote(url, body).catch((err: unknown) => opts.warn(`${at}include:remote "${shown}": fetched, but not cached (${err instanceof Error ? err.message : String(err)})`));
  } catch (err) {
    if (err instanceof TooLarge) fail(err.message);
    if (err instanceof BerthError && err.code === 'proxy_invalid') fail(err.message, err);
    if (!(err instanceof FetchFailure)) throw err;
    const cached = await opts.cache.readRemote(url, opts.maxBytes);
    if (!cached) {
      const what = `${err.message}, and there is no cached copy in ${opts.cache.dir}; check the URL and the network (or --include-ca for a private CA)`;
      return err.unavailable ? unavailable(what, err) : fail(what, err);
    }
    opts.warn(`${at}include:remote "${shown}": ${err.message}; using the cached copy from ${opts.cache.dir}`);
    body = cached;
  }
  return body;
}

function parseHttpsUrl(url: string): URL | 'http' | null {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return null;
  }
  if (parsed.protocol === 'http:') return 'http';
  return parsed.protocol === 'https:' && parsed.hostname ? parsed : null;
}

async function checkIntegrity(body: Buffer, integrity: string, fail: (what: string) => never): Promise<void> {
  const { createHash } = await import('node:crypto');
  const expected = integrity.replace(/^sha256-/, '');
  const actual = createHash('sha256').update(body).digest('base64');
  if (actual !== expected) fail(`the content does not match integrity "${integrity}" (its sha256 is sha256-${actual}); update the integrity value or check the URL`);
}

interface HttpsModules {
  request: typeof import('node:https').request;
  rootCertificates: readonly string[];
  /** HTTPS_PROXY / NO_PROXY: the agent of a URL that goes through a proxy (null: direct). */
  proxyAgent: (url: URL) => Agent | null;
}

async function loadHttps(proxy: ProxySettings): Promise<HttpsModules> {
  const [https, tls] = await Promise.all([import('node:https'), import('node:tls')]);
  const agents = await proxyAgentsFor(proxy);
  return { request: https.request, rootCertificates: tls.rootCertificates, proxyAgent: (url) => agents?.agentFor(url)?.agent ?? null };
}

function get(url: URL, opts: RemoteFetchOptions, ca: Buffer | undefined, redirects: number, net: HttpsModules): Promise<Buffer> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return new Promise<Buffer>((resolve, reject) => {
    // Extra CAs add to Node's bundled roots rather than replacing them.
    const cas = ca ? { ca: [ca, ...net.rootCertificates] } : {};
    const agent = net.proxyAgent(url);
    const req = net.request(url, { method: 'GET', timeout: timeoutMs, ...cas, ...(agent ? { agent } : {}), headers: { accept: '*/*' } }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (redirects >= MAX_REDIRECTS) return reject(new FetchFailure(`more than ${MAX_REDIRECTS} redirects`));
        const next = parseHttpsUrl(new URL(res.headers.location, url).toString());
        if (next === 'http') return reject(new FetchFailure('the server redirects to an http:// URL, which berth refuses'));
        if (next === null) return reject(new FetchFailure('the server redirects to an invalid URL'));
        get(next, opts, ca, redirects + 1, net).then(resolve, reject);
        return;
      }
      if (status !== 200) {
        res.resume();
        return reject(new FetchFailure(status === 404 ? 'not found (HTTP 404)' : `the server answered HTTP ${status}`));
      }
      readBody(res, opts.maxBytes).then(resolve, reject);
    });
    req.on('timeout', () => req.destroy(new FetchFailure(`no answer within ${timeoutMs / 1000} s`, true)));
    // A server that trickles bytes never trips the idle timeout: the whole download is bounded too.
    const deadline = setTimeout(() => req.destroy(new FetchFailure(`not complete within ${(4 * timeoutMs) / 1000} s`)), 4 * timeoutMs);
    req.on('close', () => clearTimeout(deadline));
    req.on('error', (err: NodeJS.ErrnoException) =>
      reject(err instanceof FetchFailure ? err : new FetchFailure(`cannot be fetched (${err.code ?? err.message})`, UNAVAILABLE_CODES.has(err.code ?? ''))),
    );
    req.end();
  });
}

function readBody(res: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(res.headers['content-length']);
    if (declared > maxBytes) {
      res.destroy();
      return reject(tooLarge(maxBytes));
    }
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        res.destroy();
        reject(tooLarge(maxBytes));
        return;
      }
      chunks.push(chunk);
    });
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', (err: NodeJS.ErrnoException) => reject(new FetchFailure(`the download broke off (${err.code ?? err.message})`)));
  });
}

function tooLarge(maxBytes: number): Error {
  return new TooLarge(`the file is more than ${maxBytes} bytes (4 MiB); split it`);
}
