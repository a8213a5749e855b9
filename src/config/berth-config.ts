/**
 * The typed config.toml model, inferred from the schema declarations. Property names are
 * camelCase; the TOML names are in the schema. Values are as written in the file (absent keys
 * take their default); `effective-settings.ts` turns "0 means the default" values into numbers
 * the daemon can use.
 */
import type { serviceSchema } from './docker-schema.js';
import { globalSchema, runnerSchema } from './runner-schema.js';
import { defaultsOf, zerosOf, type Infer } from './schema.js';

export type ServiceConfig = Infer<typeof serviceSchema>;

export type RunnerConfig = Infer<typeof runnerSchema> & {
  /**
   * The text of `url` / `token` before `$VAR` expansion, when it contained a `$`. saveConfig writes
   * it back instead of the expanded secret while it still expands to the same value.
   */
  expandedFrom?: { url?: string; token?: string };
};

/**
 * A `[[runners]]` entry berth does not run: its executor is not docker (shell, kubernetes,
 * docker-autoscaler, ...). gitlab-runner loads any executor, so a file may mix them: berth skips
 * this one with a warning and writes it back as it was read.
 */
export interface SkippedRunner {
  readonly skipped: true;
  name: string;
  executor: string;
  /** The entry as parsed, written back as it is. */
  table: Record<string, unknown>;
}

export type BerthConfig = Omit<Infer<typeof globalSchema>, 'runners'> & {
  /** The runners berth runs (docker executor). */
  runners: RunnerConfig[];
  /**
   * Every `[[runners]]` entry in file order, skipped ones included; only when the file had a
   * skipped runner. saveConfig follows it: runners no longer in `runners` are left out, runners
   * added to `runners` come after.
   */
  runnerOrder?: (RunnerConfig | SkippedRunner)[];
};

/** A config with every key at its default and no runners. */
export function defaultConfig(): BerthConfig {
  return defaultsOf(globalSchema);
}

/**
 * The config `berth register` creates when there is no config.toml yet: the values gitlab-runner
 * writes in a new file (`concurrent = 1`, `check_interval = 0`, `shutdown_timeout = 0`, where 0
 * means the default).
 */
export function newConfig(): BerthConfig {
  return { ...defaultConfig(), checkInterval: 0, shutdownTimeout: 0 };
}

/** A `[[runners]]` entry with gitlab-runner's Go zero values: the start of a `register` (see template-merge.ts). */
export function zeroRunnerConfig(): RunnerConfig {
  return zerosOf(runnerSchema);
}
