/**
 * `berth run`: the runner daemon. Reads config.toml, sweeps what an earlier berth process of
 * the same runners left behind, serves metrics, and feeds every `[[runners]]` worker every
 * check_interval (spread over the runners). The config is reloaded when the file changes or
 * on SIGHUP (running jobs keep their settings). A config file that does not exist yet is not an
 * error: berth starts with no runners and loads the file once `berth register` writes it (the
 * reload above), as gitlab-runner does. Runner tokens that expire are rotated (token-rotation.ts).
 *
 * Signals, as gitlab-runner: SIGQUIT stops asking for jobs and exits 0 once running jobs have
 * finished; SIGTERM/SIGINT abort running jobs (reported to GitLab as runner_interrupted), clean
 * up, and exit within shutdown_timeout; a second SIGTERM/SIGINT exits at once (the next start
 * sweeps what is left).
 */
import { rm } from 'node:fs/promises';
import type { BerthConfig, RunnerConfig } from '../config/berth-config.js';
import { effectiveGlobals } from '../config/effective-settings.js';
import { loadConfig } from '../config/load-config.js';
import { loadOrCreateSystemId } from '../config/system-id.js';
import { parseLogLevel } from '../config/log-level.js';
import { updateRunnerInConfig } from '../config/update-runner-in-config.js';
import { watchConfig } from '../config/watch-config.js';
import type { EngineClient, Labels } from '../engine/engine-client.js';
import type { DockerSettings } from '../executor/docker/docker-settings.js';
import { JobFailure } from '../job/job-result.js';
import { maskText } from '../log/masker.js';
import { sleep } from '../shared/abort.js';
import { errorMessage } from '../shared/errors.js';
import { reconcileConfig } from './config-reconciler.js';
import { wireDaemon } from './daemon-wiring.js';
import { IdleHeapTrim, type HeapControl } from './idle-heap-trim.js';
import { Slots } from './job-slots.js';
import { sweepRunnerLeftovers } from './leftover-sweeper.js';
import type { ExecutorFactory } from './remote-job.js';
import { createRunnerLog, type LogFormat, type LogLevel, type RunnerLog } from './runner-log.js';
import { RunnerMetrics } from './runner-metrics.js';
import { cloneDirOf, RunnerWorker } from './runner-worker.js';
import { makePrivateDir } from '../sources/git-source.js';
import { sweepGitTempDirs } from '../sources/git-temp-dir.js';
import { raceShutdown } from './shutdown-race.js';
import { ShutdownSignals, type SignalSource } from './shutdown-signals.js';
import { TokenRotator } from './token-rotation.js';
import { createV8HeapControl } from './v8-heap-control.js';
import { WorkerSet } from './worker-set.js';

export interface DaemonOptions {
  configPath: string;
  version: string;
  listenAddress?: string;
  logLevel?: LogLevel;
  logFormat?: LogFormat;
  /** Warnings about the command line, logged at start. */
  warnings?: readonly string[];
  /** Where runner log lines go (default stderr). */
  write?: (line: string) => void;
  /** Extra labels on every Docker object (tests). */
  labels?: Labels;
  /** Signal source (tests may pass an EventEmitter). */
  signals?: SignalSource;
  /** Ms the config file is polled (default 3000). */
  configPollMs?: number;
  /** The engine for a `[runners.docker]` connection (tests; default: dockerode). */
  engineFor?: (settings: DockerSettings) => EngineClient;
  /** The executor of each job (tests; default: the Docker executor). */
  createExecutor?: ExecutorFactory;
  /** The heap IdleHeapTrim collects (tests; default: V8's, with its memory reducer off). */
  heap?: HeapControl;
}

export async function runDaemon(opts: DaemonOptions): Promise<number> {
  // gitlab-runner: a missing file is an empty config (common/config.go LoadConfig), loaded once it appears.
  const loaded = await loadConfig(opts.configPath, { allowMissing: true });
  const missing = loaded.mtimeMs === 0;
  const systemId = await loadOrCreateSystemId(opts.configPath);
  let config = loaded.config;
  // Tokens rotated away are masked too: an old file or a late message may still hold one.
  const retiredTokens: string[] = [];
  const tokens = (): string[] => [...config.runners.map((r) => r.token), ...retiredTokens].filter(Boolean);
  const write = opts.write ?? ((line: string) => process.stderr.write(line));
  const log = createRunnerLog({
    level: opts.logLevel ?? toLogLevel(config.logLevel),
    format: opts.logFormat ?? (config.logFormat || 'runner'),
    write,
    scrub: (text) => maskText(text, tokens()),
  });
  for (const w of opts.warnings ?? []) log.warn(w);
  for (const w of loaded.warnings) log.warn(w.message);
  log.info(`Starting berth run ${opts.version}`, { config: opts.configPath, system_id: systemId, runners: config.runners.length });
  if (missing) {
    // gitlab-runner's line when it looks for the file (multi.go checkConfig → "Failed to load config" and os.Stat's error).
    log.error(`Failed to load config stat ${opts.configPath}: no such file or directory`);
    log.warn('No config file yet: register a runner with "berth register"; berth loads the file when it appears');
  } else if (!config.runners.length) log.warn('No [[runners]] in the config: register one with "berth register"');

  const metrics = new RunnerMetrics();
  const globalSlots = new Slots(config.concurrent);
  metrics.concurrent.set(config.concurrent);
  const shutdown = new AbortController();
  const stopFeeding = new AbortController();
  // After a burst of jobs, one GC of our own once idle instead of V8's memory reducer (issue 10).
  const idleness = new IdleHeapTrim(opts.heap ?? createV8HeapControl(), { log });
  const wiring = wireDaemon({
    configPath: opts.configPath,
    version: opts.version,
    systemId,
    log,
    metrics,
    globalSlots,
    shutdown: shutdown.signal,
    idleness,
    ...(opts.labels ? { labels: opts.labels } : {}),
    ...(opts.engineFor ? { engineFor: opts.engineFor } : {}),
    ...(opts.createExecutor ? { createExecutor: opts.createExecutor } : {}),
  });
  const workers = new WorkerSet((r: RunnerConfig) => new RunnerWorker(r, wiring.workerDeps(r)));
  workers.apply(config.runners);
  const rotator = new TokenRotator({
    resetToken: (r) => wiring.clientFor(r).resetToken(r.url, r.token),
    updateFile: (token, change) => updateRunnerInConfig(opts.configPath, token, change),
    rotated: (old, next) => {
      retiredTokens.push(old);
      config = rotator.apply(config);
      workers.rename(old, next.token);
      workers.apply(config.runners);
    },
    log,
    systemId,
  });

  let watcher: ReturnType<typeof watchConfig> | null = null;
  const signals = new ShutdownSignals(
    {
      drain: () => {
        stopFeeding.abort();
        workers.stopAll();
      },
      abort: (signal) => {
        stopFeeding.abort();
        workers.stopAll();
        shutdown.abort(new JobFailure('runner_interrupted', `the runner received ${signal} and stopped the job`));
      },
      reload: () => void watcher?.reload(),
    },
    log,
  );
  // Listening before the start-up sweep: a signal during it stops berth as it would later
  // (SIGQUIT: exit 0), instead of the signal's default action.
  const unlisten = signals.listen(opts.signals ?? process);
  let server: Awaited<ReturnType<RunnerMetrics['serve']>> | null = null;

  try {
    await sweepAll(workers.list, systemId, log);
    // Clones a killed earlier process left (its containers went with the sweep above).
    for (const w of workers.list) await rm(cloneDirOf(wiring.gitCacheDir, w.shortToken), { recursive: true, force: true });
    await rm(wiring.launchDir, { recursive: true, force: true });
    await sweepGitTemp(systemId, log);
    // The git cache holds the projects' sources: only berth's user may enter it.
    await makePrivateDir(wiring.gitCacheDir);
    const listen = opts.listenAddress ?? config.listenAddress;
    server = listen && !stopFeeding.signal.aborted ? await metrics.serve(listen) : null;
    if (server) log.info(`Metrics server listening on ${server.address}`);

    watcher = watchConfig(
      opts.configPath,
      (next) => {
        config = reconcileConfig(next, { workers, globalSlots, metrics, log, tokens: rotator });
      },
      (err) => log.error(err.message),
      { mtimeMs: loaded.mtimeMs, missing, ...(opts.configPollMs ? { intervalMs: opts.configPollMs } : {}) },
    );
    const checkIntervalMs = (): number => effectiveGlobals(config).checkIntervalMs;
    const rotating = rotateTokens(rotator, () => config.runners, checkIntervalMs, stopFeeding.signal, log);
    await feed(() => workers.list, checkIntervalMs, stopFeeding.signal);
    return await raceShutdown({
      mode: signals.mode === 'draining' ? 'draining' : 'aborting',
      // A token reset under way finishes (and is saved) before berth exits: GitLab may have revoked the old token.
      idle: async () => {
        await Promise.all([workers.idle(), rotating]);
      },
      forced: signals.forced,
      timeoutMs: effectiveGlobals(config).shutdownTimeoutMs,
      log,
    });
  } finally {
    unlisten();
    watcher?.();
    await server?.close();
    await wiring.close();
  }
}

/** Pokes every worker once per check_interval, spread evenly over the interval. */
async function feed(workers: () => RunnerWorker[], intervalMs: () => number, stop: AbortSignal): Promise<void> {
  while (!stop.aborted) {
    const list = workers();
    if (!list.length) {
      await sleep(intervalMs(), stop).catch(() => undefined);
      continue;
    }
    for (const w of list) {
      if (stop.aborted) break;
      w.poke();
      await sleep(intervalMs() / list.length, stop).catch(() => undefined);
    }
  }
}

/** Checks the runners' tokens every check_interval, the first time at once (token-rotation.ts). */
async function rotateTokens(
  rotator: TokenRotator,
  runners: () => readonly RunnerConfig[],
  intervalMs: () => number,
  stop: AbortSignal,
  log: RunnerLog,
): Promise<void> {
  while (!stop.aborted) {
    await rotator.check(runners).catch((err: unknown) => log.error(`Token rotation failed: ${errorMessage(err)}`));
    await sleep(intervalMs(), stop).catch(() => undefined);
  }
  await rotator.idle();
}

async function sweepAll(workers: RunnerWorker[], systemId: string, log: RunnerLog): Promise<void> {
  await Promise.all(
    workers.map(async (w) => {
      try {
        const r = await sweepRunnerLeftovers(w.engine, systemId, w.shortToken);
        const removed = r.containers + r.networks + r.volumes;
        if (removed) {
          log.warn('Removed what an earlier berth process left behind', {
            runner: w.shortToken,
            containers: r.containers,
            networks: r.networks,
            volumes: r.volumes,
          });
        }
        for (const p of r.problems) log.warn(`Leftover could not be removed: ${p}`, { runner: w.shortToken });
      } catch (err) {
        log.error(`Leftover sweep failed: ${errorMessage(err)}`, { runner: w.shortToken });
      }
    }),
  );
}

/** git's temp folders (askpass, HOME) that a killed process of an older berth left (berth no longer makes them). */
async function sweepGitTemp(systemId: string, log: RunnerLog): Promise<void> {
  const r = await sweepGitTempDirs(systemId);
  if (r.removed.length) log.warn('Removed git temp folders an earlier berth process left behind', { folders: r.removed.length });
  for (const p of r.problems) log.warn(`git temp folder could not be removed: ${p}`);
}

function toLogLevel(level: string): LogLevel {
  return parseLogLevel(level) ?? 'info';
}

export type { BerthConfig };
