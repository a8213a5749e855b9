/**
 * Waits for a service to accept TCP connections on one of its ports (gitlab-runner's health
 * check, without a helper container: the runner dials the service's address itself). Gives up
 * early, with the reason, when the service container stops.
 */
import { connect } from 'node:net';
import type { EngineClient } from '../../engine/engine-client.js';
import { sleep } from '../../shared/abort.js';

export interface HealthTarget {
  containerId: string;
  host: string;
  ports: number[];
}

export type HealthResult = { ok: true; port: number } | { ok: false; error: string };

const DIAL_TIMEOUT_MS = 1_000;
const RETRY_MS = 100;
const STATE_CHECK_MS = 1_000;

export async function waitForService(
  engine: EngineClient,
  target: HealthTarget,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<HealthResult> {
  const deadline = Date.now() + timeoutMs;
  let lastStateCheck = Date.now();
  let lastError = 'no connection attempt finished';
  while (!signal.aborted) {
    const port = await firstOpenPort(target.host, target.ports, Math.min(DIAL_TIMEOUT_MS, Math.max(1, deadline - Date.now())));
    if (port.ok) return port;
    lastError = port.error;
    if (Date.now() >= deadline) break;
    if (Date.now() - lastStateCheck >= STATE_CHECK_MS) {
      lastStateCheck = Date.now();
      const info = await engine.inspectContainer(target.containerId).catch(() => null);
      if (!info?.state.running) {
        return { ok: false, error: `service container stopped (exit code ${info?.state.exitCode ?? 'unknown'})` };
      }
    }
    await sleep(Math.min(RETRY_MS, Math.max(0, deadline - Date.now())), signal).catch(() => undefined);
  }
  return { ok: false, error: `${lastError} (waited ${Math.round(timeoutMs / 1000)} s)` };
}

async function firstOpenPort(host: string, ports: number[], timeoutMs: number): Promise<HealthResult> {
  const results = await Promise.all(ports.map((p) => dial(host, p, timeoutMs)));
  const open = ports.find((_, i) => results[i] === null);
  if (open !== undefined) return { ok: true, port: open };
  return { ok: false, error: results.filter(Boolean).join('; ') };
}

/** null when the port accepted a connection, else the reason. */
function dial(host: string, port: number, timeoutMs: number): Promise<string | null> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (result: string | null): void => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(timeoutMs, () => done(`dial tcp ${host}:${port}: i/o timeout`));
    socket.once('connect', () => done(null));
    socket.once('error', (err: NodeJS.ErrnoException) => done(`dial tcp ${host}:${port}: ${err.code ?? err.message}`));
  });
}

/** The ports to check: HEALTHCHECK_TCP_PORT if set, else the exposed TCP ports, ascending, at most 20. */
export function healthCheckPorts(exposedPorts: readonly string[], env: readonly { key: string; value: string }[]): number[] {
  const override = [...env].reverse().find((e) => e.key.toUpperCase() === 'HEALTHCHECK_TCP_PORT');
  if (override) {
    const port = Number(override.value);
    return Number.isInteger(port) && port > 0 && port < 65536 ? [port] : [];
  }
  return exposedPorts
    .filter((p) => p.endsWith('/tcp') || !p.includes('/'))
    .map((p) => Number(p.split('/')[0]))
    .filter((p) => Number.isInteger(p) && p > 0)
    .sort((a, b) => a - b)
    .slice(0, 20);
}
