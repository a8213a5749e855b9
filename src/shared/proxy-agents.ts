/**
 * ProxyAgents: the HTTP agent of a request that goes through a proxy (ProxySettings): an
 * `https://` target through a CONNECT tunnel (https-proxy-agent), an `http://` one as a request
 * to the proxy with the absolute URL (http-proxy-agent), as Go's transport sends them for
 * gitlab-runner. The proxy itself may be `http://` or `https://`; user and password in its URL
 * go as Basic proxy authorisation. One keep-alive agent per proxy and kind of target, made when
 * first needed. The target's TLS settings inside a tunnel (a private CA, the lowest version) are
 * the request's own options: the tunnel's agent does not pass its own on. Load it through
 * proxyAgentsFor (proxy-agents-for.ts), which does so only when a proxy is set.
 */
import type { Agent } from 'node:http';
import { HttpProxyAgent } from 'http-proxy-agent';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { BerthError } from './errors.js';
import { proxyFor, type ChosenProxy, type ProxySettings } from './proxy-env.js';

export interface ProxiedAgent {
  agent: Agent;
  proxy: ChosenProxy;
}

export class ProxyConfigError extends BerthError {
  constructor(message: string) {
    super('proxy_invalid', message);
  }
}

export class ProxyAgents {
  private readonly agents = new Map<string, Agent>();

  constructor(private readonly settings: ProxySettings) {}

  /** The agent for a request to `target` through its proxy, or null to connect directly. */
  agentFor(target: URL): ProxiedAgent | null {
    const proxy = proxyFor(this.settings, target);
    if (!proxy) return null;
    if (proxy.url.protocol !== 'http:' && proxy.url.protocol !== 'https:') {
      throw new ProxyConfigError(
        `${proxy.from} names a ${proxy.url.protocol.replace(/:$/, '')} proxy (${proxy.url.host}); berth talks to HTTP and HTTPS proxies only: set ${proxy.from} to one, or leave it unset`,
      );
    }
    const key = `${target.protocol} ${proxy.url.href}`;
    let agent = this.agents.get(key);
    if (!agent) {
      // The agents get the proxy without its user and password (they would log it with DEBUG set) and the header instead.
      const bare = new URL(proxy.url.href);
      bare.username = '';
      bare.password = '';
      const headers: Record<string, string> = {};
      if (proxy.url.username || proxy.url.password) {
        const auth = `${decodeURIComponent(proxy.url.username)}:${decodeURIComponent(proxy.url.password)}`;
        headers['Proxy-Authorization'] = `Basic ${Buffer.from(auth).toString('base64')}`;
      }
      const options = { keepAlive: true, maxSockets: 16, headers };
      agent = target.protocol === 'https:' ? new HttpsProxyAgent(bare, options) : new HttpProxyAgent(bare, options);
      this.agents.set(key, agent);
    }
    return { agent, proxy };
  }

  /** Closes the idle sockets of every agent. */
  destroy(): void {
    for (const agent of this.agents.values()) agent.destroy();
    this.agents.clear();
  }
}
