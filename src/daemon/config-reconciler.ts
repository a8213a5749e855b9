/**
 * Applies a reloaded config.toml to a running daemon: its warnings are logged, the global
 * `concurrent` limit changes at once, and the workers are reconciled with the `[[runners]]`
 * entries (running jobs keep the settings they started with). Tokens the daemon has rotated
 * replace the old ones the file may still hold (a save that failed, or a reload that read the
 * file just before the new token was written), so a reload never undoes a rotation.
 * Returns the config the daemon now runs with.
 */
import type { BerthConfig, RunnerConfig } from '../config/berth-config.js';
import type { LoadedConfig } from '../config/load-config.js';
import type { Slots } from './job-slots.js';
import type { RunnerLog } from './runner-log.js';
import type { RunnerMetrics } from './runner-metrics.js';
import type { ReconciledWorker, WorkerSet } from './worker-set.js';

export interface ReconcileTarget {
  workers: WorkerSet<RunnerConfig, ReconciledWorker<RunnerConfig>>;
  globalSlots: Slots;
  metrics: Pick<RunnerMetrics, 'concurrent'>;
  log: Pick<RunnerLog, 'info' | 'warn'>;
  /** The daemon's rotated tokens (TokenRotator). */
  tokens?: { applyLoaded(config: BerthConfig): BerthConfig };
}

export function reconcileConfig(next: LoadedConfig, target: ReconcileTarget): BerthConfig {
  const config = target.tokens ? target.tokens.applyLoaded(next.config) : next.config;
  for (const w of next.warnings) target.log.warn(w.message);
  target.globalSlots.setMax(config.concurrent);
  target.metrics.concurrent.set(config.concurrent);
  target.workers.apply(config.runners);
  target.log.info('Configuration loaded', { runners: config.runners.length, concurrent: config.concurrent });
  return config;
}
