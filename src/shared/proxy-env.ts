/**
 * Which proxy a request goes through, from HTTP_PROXY, HTTPS_PROXY and NO_PROXY (or their lower
 * case forms), as Go's http.ProxyFromEnvironment decides it for gitlab-runner
 * (golang.org/x/net/http/httpproxy):
 *
 * - `https://` URLs use HTTPS_PROXY, `http://` URLs HTTP_PROXY; the upper case name wins when set
 *   and not empty. A proxy without a scheme (`proxy:3128`) is `http://proxy:3128`.
 * - Requests to `localhost` and to loopback addresses never use a proxy.
 * - NO_PROXY is a comma-separated list: `*` (no proxy at all), an IP (`10.0.0.1`, with an optional
 *   `:port`), a CIDR (`10.0.0.0/8`), or a domain: `example.com` matches it and its subdomains,
 *   `.example.com` and `*.example.com` its subdomains only; `:port` limits an entry to that port.
 */
import { BlockList, isIP } from 'node:net';

export interface ProxySettings {
  /** For `http://` URLs (HTTP_PROXY), and the variable it came from. */
  http: { url: URL; from: string } | null;
  /** For `https://` URLs (HTTPS_PROXY). */
  https: { url: URL; from: string } | null;
  /** NO_PROXY's entries, parsed. */
  noProxy: NoProxy;
}

/** The proxy a request takes, and the variable that named it (for messages). */
export interface ChosenProxy {
  url: URL;
  from: string;
}

type Env = Readonly<Record<string, string | undefined>>;

interface DomainRule {
  /** With a leading dot. */
  suffix: string;
  port: string;
  /** The entry had no leading dot or `*.`: the domain itself matches too. */
  self: boolean;
}

interface NoProxy {
  all: boolean;
  ips: Array<{ ip: string; port: string }>;
  cidrs: BlockList;
  domains: DomainRule[];
}

/** The settings of `env` (default: berth's own environment), read as Go reads them. */
export function proxySettingsFrom(env: Env = process.env): ProxySettings {
  return {
    http: proxyOf(env, 'HTTP_PROXY', 'http_proxy'),
    https: proxyOf(env, 'HTTPS_PROXY', 'https_proxy'),
    noProxy: parseNoProxy(firstSet(env, 'NO_PROXY', 'no_proxy')?.value ?? ''),
  };
}

/** Whether any proxy is set at all (without one, requests go as they always did). */
export function anyProxy(settings: ProxySettings): boolean {
  return settings.http !== null || settings.https !== null;
}

/** ` (through the proxy <host> of HTTPS_PROXY)`: what an error about a proxied request adds. */
export function throughProxy(proxy: ChosenProxy | null | undefined): string {
  return proxy ? ` (through the proxy ${proxy.url.host} of ${proxy.from})` : '';
}

/** The proxy for a request to `target`, or null to connect directly. */
export function proxyFor(settings: ProxySettings, target: URL): ChosenProxy | null {
  const proxy = target.protocol === 'https:' ? settings.https : target.protocol === 'http:' ? settings.http : null;
  if (!proxy) return null;
  const host = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = target.port || (target.protocol === 'https:' ? '443' : '80');
  return useProxy(settings.noProxy, host, port) ? proxy : null;
}

function firstSet(env: Env, ...names: string[]): { value: string; from: string } | null {
  for (const name of names) {
    const value = env[name];
    if (value) return { value, from: name };
  }
  return null;
}

function proxyOf(env: Env, ...names: string[]): { url: URL; from: string } | null {
  const set = firstSet(env, ...names);
  if (!set) return null;
  const url = parseProxy(set.value.trim());
  return url ? { url, from: set.from } : null;
}

/** Go's parseProxy: as written when it has a scheme and a host, else with `http://` in front. */
function parseProxy(text: string): URL | null {
  try {
    const url = new URL(text);
    if (url.host !== '' && /^[a-z][a-z0-9+.-]*:$/i.test(url.protocol)) return url;
  } catch {
    // tried again with http:// below
  }
  try {
    return new URL(`http://${text}`);
  } catch {
    return null;
  }
}

function useProxy(rules: NoProxy, host: string, port: string): boolean {
  if (host === 'localhost') return false;
  const family = isIP(host);
  if (family !== 0 && isLoopback(host, family)) return false;
  if (rules.all) return false;
  if (family !== 0) {
    for (const rule of rules.ips) if (sameIp(rule.ip, host) && (rule.port === '' || rule.port === port)) return false;
    if (rules.cidrs.check(host, family === 6 ? 'ipv6' : 'ipv4')) return false;
  }
  for (const d of rules.domains) {
    if ((host.endsWith(d.suffix) || (d.self && host === d.suffix.slice(1))) && (d.port === '' || d.port === port)) return false;
  }
  return true;
}

function isLoopback(ip: string, family: number): boolean {
  if (family === 4) return ip.startsWith('127.');
  const loop = new BlockList();
  loop.addAddress('::1', 'ipv6');
  loop.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');
  return loop.check(ip, 'ipv6');
}

function sameIp(a: string, b: string): boolean {
  if (a === b) return true;
  const family = isIP(a);
  if (family !== isIP(b)) return false;
  const list = new BlockList();
  list.addAddress(a, family === 6 ? 'ipv6' : 'ipv4');
  return list.check(b, family === 6 ? 'ipv6' : 'ipv4');
}

/** httpproxy's config.init: the NO_PROXY entries. */
function parseNoProxy(text: string): NoProxy {
  const rules: NoProxy = { all: false, ips: [], cidrs: new BlockList(), domains: [] };
  for (const raw of text.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return { ...rules, all: true };
    const cidr = /^(.+)\/(\d{1,3})$/.exec(entry);
    if (cidr && isIP(cidr[1]!) !== 0) {
      const family = isIP(cidr[1]!);
      const prefix = Number(cidr[2]);
      if (prefix <= (family === 6 ? 128 : 32)) rules.cidrs.addSubnet(cidr[1]!, prefix, family === 6 ? 'ipv6' : 'ipv4');
      continue;
    }
    let host = entry;
    let port = '';
    const hostPort = /^(\[[^\]]*\]|[^:]*):(\d*)$/.exec(entry);
    if (hostPort) {
      host = hostPort[1]!.replace(/^\[|\]$/g, '');
      port = hostPort[2]!;
      if (host === '') continue;
    }
    if (isIP(host) !== 0) {
      rules.ips.push({ ip: host, port });
      continue;
    }
    if (host.startsWith('*.')) host = host.slice(1);
    const self = !host.startsWith('.');
    rules.domains.push({ suffix: self ? `.${host}` : host, port, self });
  }
  return rules;
}
