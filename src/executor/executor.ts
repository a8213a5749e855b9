/**
 * The executor contract: prepare everything a job needs, run its stage scripts, clean up.
 * `runJob` (run-job.ts) drives it; the Docker executor implements it.
 */
import type { JobVariable } from '../job/job-spec.js';
import type { JobStatusForScript } from '../job/runner-variables.js';
import type { ProjectFiles } from './project-files.js';

export interface ScriptStage {
  /** Section name: step_script, after_script, ... */
  name: string;
  commands: readonly string[];
  /** CI_JOB_STATUS as the stage sees it. */
  jobStatus: JobStatusForScript;
}

export interface StageResult {
  /** The script's exit status (0 = success). */
  exitCode: number;
  /** The stage was stopped because its signal aborted. */
  stopped: boolean;
}

export interface Executor {
  /** Pulls, network, services, build container, sources. Throws JobFailure. */
  prepare(signal: AbortSignal): Promise<void>;
  /** Runs one stage; a failing script is a result, not an exception. */
  runStage(stage: ScriptStage, signal: AbortSignal): Promise<StageResult>;
  /**
   * Removes everything the job created. Idempotent; safe after a failed or aborted prepare.
   * Resolves with one message per object it could not remove (never rejects).
   */
  cleanup(): Promise<string[]>;
  /** The project directory for the cache and artifact stages; null before prepare or when there is none. */
  projectFiles(): ProjectFiles | null;
  /** The variables the job's stages see (for $VAR in cache keys, artifact names and paths). */
  variables(jobStatus: JobStatusForScript): readonly JobVariable[];
}
