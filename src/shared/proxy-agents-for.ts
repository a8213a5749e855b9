/**
 * proxyAgentsFor: the agents of the proxies `settings` name (ProxyAgents), or null when they name
 * none. The agents' module, and the npm packages under it (20-40 ms to load), is loaded only when
 * a proxy is set: `berth exec` and a runner without a proxy never load it.
 */
import type { ProxyAgents } from './proxy-agents.js';
import { anyProxy, type ProxySettings } from './proxy-env.js';

export function proxyAgentsFor(settings: ProxySettings): Promise<ProxyAgents> | null {
  if (!anyProxy(settings)) return null;
  return import('./proxy-agents.js').then((m) => new m.ProxyAgents(settings));
}
