/**
 * The service health check inside the job's network: a short-lived probe container of the job's
 * build image (already on the engine) on the service's network runs probe-script.ts against the
 * service's address and ports, as gitlab-runner runs its helper image's `health-check` command in
 * a "wait-for-service" container (executors/docker/services.go, commands/helpers/health_check.go).
 * Used when the engine is remote: berth's process cannot route to that engine's container
 * addresses. The probe is labelled like every object of the job (the tracker removes it, the
 * sweeper finds it) and removed as soon as it is done, also on timeout and cancel.
 */
import type { EngineClient } from '../../engine/engine-client.js';
import { sleep } from '../../shared/abort.js';
import { errorMessage } from '../../shared/errors.js';
import type { Labeller } from './labeller.js';
import { parseProbeOutput, PROBE_EXIT_NO_TOOL, probeCommand } from './probe-script.js';
import type { ResourceTracker } from './resource-tracker.js';
import type { HealthResult } from './service-health.js';

/** The image the probe runs in: the job's build image, as pulled. */
export interface ProbeImage {
  /** What to create the container from (the pulled reference or image id). */
  ref: string;
  /** The image as the job names it, for messages. */
  name: string;
  platform?: string;
}

export interface ProbeTarget {
  serviceContainerId: string;
  /** Names the probe container: `<job base name>-<nameSuffix>-wait-for-service`. */
  nameSuffix: string;
  host: string;
  ports: number[];
  /** The service's network mode (the job network's name, "bridge", "host"). */
  networkMode: string;
}

/** As HealthResult, or `unavailable` when the check could not run in that image at all. */
export type ProbeResult = HealthResult | { ok: false; unavailable: string };

export interface ProbeDeps {
  engine: EngineClient;
  tracker: ResourceTracker;
  labeller: Labeller;
}

const STATE_CHECK_MS = 1_000;
const PROBE_LOG_LIMIT = 16 * 1024;
const AFTER_TIMEOUT_MS = 30_000;
/** The script's own deadline lies past berth's: it ends by itself if berth is gone. */
const SELF_LIMIT_EXTRA_SECONDS = 5;

export async function probeService(deps: ProbeDeps, image: ProbeImage, target: ProbeTarget, timeoutMs: number, signal: AbortSignal): Promise<ProbeResult> {
  const { engine, tracker, labeller } = deps;
  const stop = new AbortController();
  let ended: 'timeout' | { stopped: string } | null = null;
  const end = (why: typeof ended): void => {
    ended ??= why;
    stop.abort();
  };
  const onAbort = (): void => stop.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  if (signal.aborted) stop.abort();
  const timer = setTimeout(() => end('timeout'), timeoutMs);
  let id: string | null = null;
  try {
    const { entrypoint, cmd } = probeCommand(target.host, target.ports, timeoutMs / 1000 + SELF_LIMIT_EXTRA_SECONDS);
    try {
      id = await tracker.createContainer(
        {
          name: labeller.name(`${target.nameSuffix}-wait-for-service`),
          image: image.ref,
          entrypoint,
          cmd,
          labels: labeller.labels('wait', { 'berth.wait.service': target.serviceContainerId }),
          networkMode: target.networkMode || undefined,
          platform: image.platform,
        },
        stop.signal,
      );
      await engine.startContainer(id, stop.signal);
    } catch (err) {
      if (stop.signal.aborted) return interrupted(ended, null, timeoutMs);
      return { ok: false, unavailable: `the probe container could not be started: ${errorMessage(err)}` };
    }
    const watching = watchService(engine, target.serviceContainerId, stop.signal, (exitCode) => end({ stopped: exitCode }));
    let exitCode: number;
    try {
      exitCode = await engine.waitContainer(id, stop.signal);
    } catch (err) {
      if (stop.signal.aborted) return interrupted(ended, await probeLogs(engine, id), timeoutMs);
      return { ok: false, error: `the health check probe failed: ${errorMessage(err)}` };
    } finally {
      stop.abort();
      await watching;
    }
    const lines = parseProbeOutput(await probeLogs(engine, id));
    if (exitCode === 0 && lines.openPort !== null) return { ok: true, port: lines.openPort };
    if (exitCode === PROBE_EXIT_NO_TOOL || lines.noTool) return { ok: false, unavailable: 'it has none of nc, bash, curl or wget' };
    if (exitCode === 126 || exitCode === 127) return { ok: false, unavailable: `its sh could not run the probe (exit code ${exitCode})` };
    return { ok: false, error: `${lines.lastError ?? 'no connection attempt finished'} (the probe exited with code ${exitCode})` };
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
    // Removed now, whatever happened (also on cancel: not the job's signal); if this fails, the
    // job's cleanup removes it (the tracker knows it).
    if (id) await engine.removeContainer(id, { force: true }, AbortSignal.timeout(AFTER_TIMEOUT_MS)).catch(() => undefined);
  }
}

/** The result when the timeout, the service stopping or the job's signal cut the probe short. */
function interrupted(ended: 'timeout' | { stopped: string } | null, logs: string | null, timeoutMs: number): ProbeResult {
  if (ended === 'timeout') {
    const last = logs === null ? null : parseProbeOutput(logs).lastError;
    return { ok: false, error: `${last ?? 'no connection attempt finished'} (waited ${Math.round(timeoutMs / 1000)} s)` };
  }
  if (ended) return { ok: false, error: `service container stopped (exit code ${ended.stopped})` };
  return { ok: false, error: 'canceled' };
}

async function probeLogs(engine: EngineClient, id: string): Promise<string> {
  return engine.containerLogs(id, PROBE_LOG_LIMIT, AbortSignal.timeout(AFTER_TIMEOUT_MS)).catch(() => '');
}

/** Calls `onStopped` once when the service container is no longer running (as the direct check gives up early). */
async function watchService(engine: EngineClient, id: string, signal: AbortSignal, onStopped: (exitCode: string) => void): Promise<void> {
  while (!signal.aborted) {
    try {
      await sleep(STATE_CHECK_MS, signal);
    } catch {
      return;
    }
    const info = await engine.inspectContainer(id, signal).catch(() => undefined);
    if (signal.aborted) return;
    if (info === undefined) continue;
    if (!info?.state.running) {
      onStopped(String(info?.state.exitCode ?? 'unknown'));
      return;
    }
  }
}
