/**
 * The numbers the daemon acts on. config.toml keeps what the file says (`check_interval = 0`, as
 * gitlab-runner writes it); here 0 or a negative value becomes the default where gitlab-runner
 * does the same (check_interval, shutdown_timeout, request_concurrency, output_limit, ...).
 */
import type { BerthConfig, RunnerConfig } from './berth-config.js';
import { globalSchema, runnerSchema } from './runner-schema.js';
import type { FieldDecl } from './schema.js';

export function resolveDefault(decl: FieldDecl<number>, value: number): number {
  if (decl.defaultWhen === 'nonPositive' && value <= 0) return decl.default;
  if (decl.defaultWhen === 'zero' && value === 0) return decl.default;
  return value;
}

export interface EffectiveGlobals {
  concurrent: number;
  checkIntervalMs: number;
  shutdownTimeoutMs: number;
  connectionMaxAgeMs: number;
}

export function effectiveGlobals(config: BerthConfig): EffectiveGlobals {
  return {
    concurrent: config.concurrent,
    checkIntervalMs: resolveDefault(globalSchema.checkInterval, config.checkInterval) * 1000,
    shutdownTimeoutMs: resolveDefault(globalSchema.shutdownTimeout, config.shutdownTimeout) * 1000,
    connectionMaxAgeMs: config.connectionMaxAge,
  };
}

export interface EffectiveRunnerSettings {
  /** 0: no limit. */
  limit: number;
  requestConcurrency: number;
  outputLimitBytes: number;
  unhealthyRequestsLimit: number;
  unhealthyIntervalMs: number;
  finalUpdateRetryLimit: number;
  strictCheckInterval: boolean;
}

export function effectiveRunnerSettings(runner: RunnerConfig): EffectiveRunnerSettings {
  return {
    limit: runner.limit,
    requestConcurrency: resolveDefault(runnerSchema.requestConcurrency, runner.requestConcurrency),
    outputLimitBytes: resolveDefault(runnerSchema.outputLimit, runner.outputLimit) * 1024,
    unhealthyRequestsLimit: resolveDefault(runnerSchema.unhealthyRequestsLimit, runner.unhealthyRequestsLimit),
    unhealthyIntervalMs: runner.unhealthyInterval,
    finalUpdateRetryLimit: resolveDefault(runnerSchema.jobStatusFinalUpdateRetryLimit, runner.jobStatusFinalUpdateRetryLimit),
    strictCheckInterval: runner.strictCheckInterval,
  };
}
