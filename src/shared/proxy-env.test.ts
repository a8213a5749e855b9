/**
 * HTTP_PROXY / HTTPS_PROXY / NO_PROXY as Go's httpproxy reads them for gitlab-runner (the cases
 * follow golang.org/x/net/http/httpproxy's proxy_test.go).
 */
import { describe, expect, it } from 'vitest';
import { proxyFor, proxySettingsFrom } from './proxy-env.js';

const via = (env: Record<string, string>, target: string): string | null => proxyFor(proxySettingsFrom(env), new URL(target))?.url.href ?? null;

describe('which proxy a request takes', () => {
  it('https:// URLs take HTTPS_PROXY, http:// URLs HTTP_PROXY; upper case wins, lower case counts', () => {
    const env = { HTTP_PROXY: 'http://web:3128', https_proxy: 'http://secure:3129' };
    expect(via(env, 'http://gitlab.example.com/api')).toBe('http://web:3128/');
    expect(via(env, 'https://gitlab.example.com/api')).toBe('http://secure:3129/');
    expect(via({ HTTPS_PROXY: 'http://upper:1', https_proxy: 'http://lower:2' }, 'https://x.example/')).toBe('http://upper:1/');
    expect(via({ HTTPS_PROXY: '', https_proxy: 'http://lower:2' }, 'https://x.example/')).toBe('http://lower:2/');
    expect(via({ HTTP_PROXY: 'http://web:3128' }, 'https://x.example/')).toBeNull();
    expect(proxyFor(proxySettingsFrom({ HTTPS_PROXY: 'http://p:1' }), new URL('https://x.example/'))?.from).toBe('HTTPS_PROXY');
  });

  it('a proxy without a scheme is http://; with user and password it keeps them', () => {
    expect(via({ HTTPS_PROXY: 'proxy.corp:3128' }, 'https://x.example/')).toBe('http://proxy.corp:3128/');
    expect(via({ HTTPS_PROXY: 'https://u:p%40ss@proxy.corp' }, 'https://x.example/')).toBe('https://u:p%40ss@proxy.corp/');
  });

  it('localhost and loopback addresses never go through a proxy', () => {
    const env = { HTTP_PROXY: 'http://p:1', HTTPS_PROXY: 'http://p:1' };
    for (const t of ['http://localhost:8080/', 'https://127.0.0.1/', 'http://127.1.2.3:9/', 'http://[::1]:80/']) expect(via(env, t), t).toBeNull();
    expect(via(env, 'http://10.1.2.3/')).toBe('http://p:1/');
  });

  it('NO_PROXY: domains (with and without a leading dot or *.), ports, IPs, CIDRs, *', () => {
    const p = { HTTPS_PROXY: 'http://p:1', HTTP_PROXY: 'http://p:1' };
    const cases: Array<[string, string, boolean]> = [
      // [NO_PROXY, target, proxied]
      ['example.com', 'https://example.com/', false],
      ['example.com', 'https://www.example.com/', false],
      ['example.com', 'https://notexample.com/', true],
      ['.example.com', 'https://example.com/', true],
      ['.example.com', 'https://www.example.com/', false],
      ['*.example.com', 'https://example.com/', true],
      ['*.example.com', 'https://a.b.example.com/', false],
      ['example.com:8443', 'https://example.com:8443/', false],
      ['example.com:8443', 'https://example.com/', true],
      [' Example.COM , other.org', 'https://EXAMPLE.com/', false],
      ['10.0.0.1', 'http://10.0.0.1:8080/', false],
      ['10.0.0.1:80', 'http://10.0.0.1/', false],
      ['10.0.0.1:80', 'http://10.0.0.1:8080/', true],
      ['10.0.0.0/8', 'http://10.200.3.4/', false],
      ['10.0.0.0/8', 'http://11.0.0.1/', true],
      ['2001:db8::/32', 'http://[2001:db8::5]/', false],
      ['[2001:db8::1]:80', 'http://[2001:db8::1]/', false],
      ['*', 'https://anything.example/', false],
      ['', 'https://anything.example/', true],
    ];
    for (const [noProxy, target, proxied] of cases) {
      expect(via({ ...p, NO_PROXY: noProxy }, target) !== null, `NO_PROXY=${noProxy} ${target}`).toBe(proxied);
    }
    expect(via({ ...p, no_proxy: 'example.com' }, 'https://example.com/')).toBeNull();
  });

  it('nothing set: no proxy', () => {
    expect(via({}, 'https://gitlab.com/')).toBeNull();
  });
});
