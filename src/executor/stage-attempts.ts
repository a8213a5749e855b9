/**
 * gitlab-runner's stage attempts (common/build.go attemptExecuteStage, common/build_settings.go
 * validateAttemptSettings): GET_SOURCES_ATTEMPTS, ARTIFACT_DOWNLOAD_ATTEMPTS and
 * RESTORE_CACHE_ATTEMPTS (default 1) run a failing stage again, up to 10 times in all. Each failure but the last logs
 * `WARNING: Retrying...` with the error, and the next attempt waits 5 s, 10 s, 20 s ... up to
 * 5 min (FF_USE_EXPONENTIAL_BACKOFF_STAGE_RETRY, on by default), else 1 s, 2 s, 4 s, then 5 s
 * (the retry helper's own backoff).
 */
import { featureFlagOn } from '../job/feature-flags.js';
import type { JobSpec } from '../job/job-spec.js';
import { variableValue } from '../job/variables.js';
import type { JobLog } from '../log/job-log.js';
import { runnerLogLine } from '../log/runner-log-line.js';
import { sleep } from '../shared/abort.js';
import { errorMessage } from '../shared/errors.js';
import { parseGoInt64 } from '../shared/go-int.js';

export type AttemptsVariable = 'GET_SOURCES_ATTEMPTS' | 'ARTIFACT_DOWNLOAD_ATTEMPTS' | 'RESTORE_CACHE_ATTEMPTS';

const MIN_ATTEMPTS = 1;
const MAX_ATTEMPTS = 10;

export interface StageAttempts {
  attempts: number;
  /** gitlab-runner's settings error for a value it cannot use (printed as a warning at the job's start). */
  problem: string | null;
}

/** The attempts `key` asks for, as gitlab-runner reads them (an integer, clamped to 1-10). */
export function stageAttempts(job: JobSpec, key: AttemptsVariable): StageAttempts {
  const raw = variableValue(job.variables, key) ?? '';
  if (raw === '') return { attempts: MIN_ATTEMPTS, problem: null };
  const asked = parseGoInt64(raw);
  if (asked === null) {
    return { attempts: MIN_ATTEMPTS, problem: `${key}: expected int got ${JSON.stringify(raw)}, using default value: ${MIN_ATTEMPTS}` };
  }
  const attempts = Math.max(MIN_ATTEMPTS, Math.min(MAX_ATTEMPTS, asked));
  if (attempts === asked) return { attempts, problem: null };
  return { attempts, problem: `${key}: number of attempts out of the range [${MIN_ATTEMPTS}, ${MAX_ATTEMPTS}], clamping to: ${attempts}` };
}

/** The wait before attempt `retry` + 1 (retry 1 = the first repeat). */
export function retryDelayMs(retry: number, exponential: boolean): number {
  const [min, max] = exponential ? [5_000, 5 * 60_000] : [1_000, 5_000];
  return Math.min(max, min * 2 ** Math.min(retry - 1, 20));
}

/**
 * Runs `stage` up to `attempts` times while it throws; `signal` stops the waits (and the caller's
 * stage). The last error is thrown.
 */
export async function withStageAttempts<T>(
  attempts: number,
  job: JobSpec,
  runnerFlags: Readonly<Record<string, boolean>>,
  log: JobLog,
  signal: AbortSignal,
  stage: () => Promise<T>,
): Promise<T> {
  const exponential = featureFlagOn('FF_USE_EXPONENTIAL_BACKOFF_STAGE_RETRY', true, runnerFlags, job.variables);
  for (let attempt = 1; ; attempt++) {
    try {
      return await stage();
    } catch (err) {
      if (attempt >= attempts || signal.aborted) throw err;
      log.warning(runnerLogLine('Retrying...', { error: errorMessage(err) }, 'WARNING: '));
      await sleep(retryDelayMs(attempt, exponential), signal);
    }
  }
}
