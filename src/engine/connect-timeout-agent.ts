/**
 * An HTTP(S) agent whose sockets give up when the TCP connection is not made within a time: an
 * engine behind a firewall that drops packets would otherwise hold every Engine API call for the
 * kernel's connect timeout (about two minutes on Linux). Only the connect is timed: a long call
 * (wait, logs, attach) on a made connection is not cut. docker-modem's own `connectionTimeout`
 * runs until the first response arrives, so it would cut those calls too.
 */
import { Agent as HttpAgent, type AgentOptions } from 'node:http';
import { Agent as HttpsAgent, type AgentOptions as HttpsAgentOptions } from 'node:https';
import type { Socket } from 'node:net';

export function connectTimeoutAgent(tls: boolean, options: HttpsAgentOptions, timeoutMs: number): HttpAgent {
  // As Node's global agent (keep-alive on since Node 19), which dockerode used before.
  const base: AgentOptions = { keepAlive: true, ...options };
  const agent = tls ? new HttpsAgent(base) : new HttpAgent(base);
  const create = agent.createConnection.bind(agent);
  agent.createConnection = (opts, callback) => {
    const socket = create(opts, callback) as Socket | null | undefined;
    if (!socket) return socket;
    const timer = setTimeout(() => {
      const err = Object.assign(new Error(`connect ETIMEDOUT ${String(opts.host)}:${String(opts.port)} (no connection within ${timeoutMs / 1000} s)`), {
        code: 'ETIMEDOUT',
      });
      socket.destroy(err);
    }, timeoutMs);
    timer.unref();
    const clear = (): void => clearTimeout(timer);
    socket.once('connect', clear);
    socket.once('close', clear);
    return socket;
  };
  return agent;
}
