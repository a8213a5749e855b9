/**
 * `berth run`: the runner daemon. Reads config.toml, sweeps what an earlier berth process of
 * the same runners left behind, serves metrics, and feeds every `[[runners]]` worker every
 * check_interval (spread over the runners). The config is reloaded when the file changes or
 * on SIGHUP (running jobs keep their settings).
 *
 * Signals, as gitlab-runner: SIGQUIT stops asking for jobs and exits 0 once running jobs have
 * finished; SIGTERM/SIGINT abort running jobs (reported to GitLab as runner_interrupted), clean
 * up, and exit within shutdown_timeout; a second SIGTERM/SIGINT exits at once (the next start
 * sweeps what is left).
 */
import { chmod, mkdir, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { BerthConfig, RunnerConfig } from '../config/berth-config.js';
import { effectiveGlobals } from '../config/effective-settings.js';
import { loadConfig, type LoadedConfig } from '../config/load-config.js';
import { loadOrCreateSystemId } from '../config/system-id.js';
import { watchConfig } from '../config/watch-config.js';
import { DockerodeEngine } from '../docker/dockerode-engine.js';
import type { EngineClient, Labels } from '../docker/engine-client.js';
import type { DockerSettings } from '../executor/docker-settings.js';
import { OwnContainerFinder } from '../executor/own-container.js';
import { GitLabClient } from '../gitlab/gitlab-client.js';
import { defaultRunnerInfo } from '../gitlab/runner-features.js';
import { JobFailure } from '../job/job-result.js';
import { maskText } from '../log/masker.js';
import { sleep } from '../shared/abort.js';
import { errorMessage } from '../shared/errors.js';
import { Slots } from './job-slots.js';
import { sweepRunnerLeftovers } from './leftover-sweeper.js';
import { createRunnerLog, type LogFormat, type LogLevel, type RunnerLog } from './runner-log.js';
import { RunnerMetrics } from './runner-metrics.js';
import { cloneDirOf, RunnerWorker } from './runner-worker.js';

export interface DaemonOptions {
  configPath: string;
  version: string;
  listenAddress?: string;
  logLevel?: LogLevel;
  logFormat?: LogFormat;
  /** Where runner log lines go (default stderr). */
  write?: (line: string) => void;
  /** Extra labels on every Docker object (tests). */
  labels?: Labels;
  /** Signal source (tests may pass an EventEmitter). */
  signals?: Pick<NodeJS.Process, 'on' | 'off'>;
  /** Ms the config file is polled (default 3000). */
  configPollMs?: number;
}

type Mode = 'running' | 'draining' | 'aborting';

export async function runDaemon(opts: DaemonOptions): Promise<number> {
  const loaded = await loadConfig(opts.configPath);
  const systemId = await loadOrCreateSystemId(opts.configPath);
  let config = loaded.config;
  const tokens = (): string[] => config.runners.map((r) => r.token).filter(Boolean);
  const write = opts.write ?? ((line: string) => process.stderr.write(line));
  const log = createRunnerLog({
    level: opts.logLevel ?? toLogLevel(config.logLevel),
    format: opts.logFormat ?? (config.logFormat || 'runner'),
    write,
    scrub: (text) => maskText(text, tokens()),
  });
  for (const w of loaded.warnings) log.warn(w.message);
  log.info(`Starting berth run ${opts.version}`, { config: opts.configPath, system_id: systemId, runners: config.runners.length });
  if (!config.runners.length) log.warn('No [[runners]] in the config: register one with "berth register"');

  const metrics = new RunnerMetrics();
  const globalSlots = new Slots(config.concurrent);
  metrics.concurrent.set(config.concurrent);
  const shutdown = new AbortController();
  const stopFeeding = new AbortController();
  const engines = new Map<string, EngineClient>();
  const engineFor = (s: DockerSettings): EngineClient => {
    const key = `${s.host}|${s.tlsVerify}|${s.tlsCertPath}`;
    let e = engines.get(key);
    if (!e) engines.set(key, (e = new DockerodeEngine({ host: s.host || undefined, tlsVerify: s.tlsVerify, tlsCertPath: s.tlsCertPath || undefined })));
    return e;
  };
  const clients = new Map<string, GitLabClient>();
  const clientFor = (r: RunnerConfig): GitLabClient => {
    const key = r.tlsCaFile;
    let c = clients.get(key);
    if (!c) {
      c = new GitLabClient({
        info: defaultRunnerInfo(opts.version),
        ...(r.tlsCaFile ? { tlsCaFile: r.tlsCaFile } : {}),
        log,
        observe: (endpoint, status) =>
          status === 'error' ? metrics.apiErrors.inc({ runner: '', endpoint }) : metrics.apiRequests.inc({ runner: '', endpoint, status: String(status) }),
      });
      clients.set(key, c);
    }
    return c;
  };
  const ownContainer = new OwnContainerFinder();
  const gitCacheDir = join(dirname(opts.configPath), 'git-cache');
  const workerDeps = (r: RunnerConfig) => ({
    client: clientFor(r),
    engineFor,
    globalSlots,
    metrics,
    log,
    systemId,
    version: opts.version,
    info: defaultRunnerInfo(opts.version),
    shutdown: shutdown.signal,
    gitCacheDir,
    homeDir: homedir(),
    ownContainer,
    ...(opts.labels ? { labels: opts.labels } : {}),
  });
  const workers = new Map<string, RunnerWorker>();
  for (const r of config.runners) workers.set(r.token, new RunnerWorker(r, workerDeps(r)));

  await sweepAll([...workers.values()], systemId, log);
  // Clones a killed earlier process left (its containers went with the sweep above).
  for (const w of workers.values()) await rm(cloneDirOf(gitCacheDir, w.shortToken), { recursive: true, force: true });
  // The git cache holds the projects' sources: only berth's user may enter it (see git-source.ts).
  await mkdir(gitCacheDir, { recursive: true, mode: 0o700 });
  await chmod(gitCacheDir, 0o700);
  const listen = opts.listenAddress ?? config.listenAddress;
  const server = listen ? await metrics.serve(listen) : null;
  if (server) log.info(`Metrics server listening on ${server.address}`);

  const applyConfig = (next: LoadedConfig): void => {
    config = next.config;
    for (const w of next.warnings) log.warn(w.message);
    globalSlots.setMax(config.concurrent);
    metrics.concurrent.set(config.concurrent);
    const seen = new Set<string>();
    for (const r of config.runners) {
      seen.add(r.token);
      const existing = workers.get(r.token);
      if (existing) existing.update(r);
      else workers.set(r.token, new RunnerWorker(r, workerDeps(r)));
    }
    for (const [token, w] of workers) {
      if (seen.has(token)) continue;
      w.stop();
      workers.delete(token);
      retired.add(w);
    }
    log.info('Configuration loaded', { runners: config.runners.length, concurrent: config.concurrent });
  };
  const retired = new Set<RunnerWorker>();
  const watcher = watchConfig(opts.configPath, applyConfig, (err) => log.error(err.message), {
    mtimeMs: loaded.mtimeMs,
    ...(opts.configPollMs ? { intervalMs: opts.configPollMs } : {}),
  });

  const state: { mode: Mode } = { mode: 'running' };
  let forced: (() => void) | null = null;
  const forcedExit = new Promise<void>((resolve) => (forced = resolve));
  const signals = opts.signals ?? process;
  const onQuit = (): void => {
    if (state.mode !== 'running') return;
    state.mode = 'draining';
    log.info('SIGQUIT received: no new jobs; exiting once running jobs finish');
    stopFeeding.abort();
    for (const w of workers.values()) w.stop();
  };
  const onTerm = (signal: string): void => {
    if (state.mode === 'aborting') {
      log.warn(`${signal} received again: exiting now; the next start removes what is left`);
      forced?.();
      return;
    }
    state.mode = 'aborting';
    log.warn(`${signal} received: aborting running jobs (press again to exit at once)`);
    stopFeeding.abort();
    for (const w of workers.values()) w.stop();
    shutdown.abort(new JobFailure('runner_interrupted', `the runner received ${signal} and stopped the job`));
  };
  const onHup = (): void => void watcher.reload();
  const handlers: [string, (...a: unknown[]) => void][] = [
    ['SIGQUIT', onQuit],
    ['SIGTERM', () => onTerm('SIGTERM')],
    ['SIGINT', () => onTerm('SIGINT')],
    ['SIGHUP', onHup],
  ];
  for (const [s, h] of handlers) signals.on(s as NodeJS.Signals, h);

  try {
    await feed(() => [...workers.values()], () => effectiveGlobals(config).checkIntervalMs, stopFeeding.signal);
    const all = (): Promise<void> => Promise.all([...workers.values(), ...retired].map((w) => w.idle())).then(() => undefined);
    if (state.mode === 'draining') {
      await Promise.race([all(), forcedExit]);
      log.info('All jobs finished: exiting');
      return 0;
    }
    const timeoutMs = effectiveGlobals(config).shutdownTimeoutMs;
    const deadline = new AbortController();
    const finished = await Promise.race([
      all().then(() => true),
      forcedExit.then(() => false),
      sleep(timeoutMs, deadline.signal).then(() => false, () => false),
    ]);
    deadline.abort(); // no timer may keep the process alive after this
    if (!finished) log.warn('Shutdown did not finish in time: exiting; the next start removes what is left');
    return finished ? 0 : 1;
  } finally {
    for (const [s, h] of handlers) signals.off(s as NodeJS.Signals, h);
    watcher();
    await server?.close();
    for (const c of clients.values()) c.close();
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

function toLogLevel(level: string): LogLevel {
  if (!level) return 'info';
  return (level === 'warning' ? 'warn' : level) as LogLevel;
}

export type { BerthConfig };
