/**
 * The executor of a job that `berth exec` prepared before its turn (see ExecJobRunner.prepare):
 * its prepare waits for the prewarm and adopts the build container it made; when the prewarm
 * failed or was cut off, that container is removed and the job is prepared afresh, as if there
 * had been no prewarm (the prewarm's log lines are dropped, the fresh prepare writes its own).
 */
import type { DockerExecutor } from '../executor/docker/docker-executor.js';
import type { Executor, ScriptStage, StageResult } from '../executor/executor.js';
import type { ProjectFiles } from '../executor/project-files.js';
import type { JobVariable } from '../job/job-spec.js';
import type { JobStatusForScript } from '../job/runner-variables.js';
import { abortReason } from '../shared/abort.js';

/** A prewarm under way or done: `ready` resolves true when it succeeded (never rejects). */
export interface Prewarm {
  executor: DockerExecutor;
  ready: Promise<boolean>;
  /** Stops the prewarm (its pulls, creates and copies). */
  stop(): void;
}

export class PrewarmedExecutor implements Executor {
  private current: DockerExecutor;
  private fresh: DockerExecutor | null = null;
  private warmCleaned = false;

  constructor(
    private readonly warm: Prewarm,
    /** The executor of the job without prewarm, made only if the prewarm is of no use. */
    private readonly makeFresh: () => DockerExecutor,
  ) {
    this.current = warm.executor;
  }

  async prepare(signal: AbortSignal): Promise<void> {
    if (await untilAborted(this.warm.ready, signal, () => this.warm.stop())) {
      await this.warm.executor.prepare(signal);
      return;
    }
    await this.cleanWarm();
    this.fresh = this.makeFresh();
    this.current = this.fresh;
    await this.fresh.prepare(signal);
  }

  runStage(stage: ScriptStage, signal: AbortSignal): Promise<StageResult> {
    return this.current.runStage(stage, signal);
  }

  projectFiles(): ProjectFiles | null {
    return this.current.projectFiles();
  }

  variables(jobStatus: JobStatusForScript): readonly JobVariable[] {
    return this.current.variables(jobStatus);
  }

  async cleanup(): Promise<string[]> {
    const problems = await this.cleanWarm();
    if (this.fresh) problems.push(...(await this.fresh.cleanup()));
    return problems;
  }

  /** Removes what the prewarm made, once it has settled. */
  private async cleanWarm(): Promise<string[]> {
    if (this.warmCleaned) return [];
    this.warmCleaned = true;
    this.warm.stop();
    await this.warm.ready;
    return this.warm.executor.cleanup();
  }
}

/** `p`, or the signal's reason as soon as it aborts (then `onAbort` runs). */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal, onAbort: () => void): Promise<T> {
  if (signal.aborted) {
    onAbort();
    return Promise.reject(abortReason(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const aborted = (): void => {
      onAbort();
      reject(abortReason(signal));
    };
    signal.addEventListener('abort', aborted, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', aborted));
  });
}
