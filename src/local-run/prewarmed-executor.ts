/**
 * The executor of a `berth exec` job, which may have been prepared before its turn (see
 * ExecJobRunner.prepare): its prepare waits for the prewarm and adopts the build container it
 * made; when there was no prewarm, or it failed or was cut off, or its container was removed or
 * stopped from outside before the job's turn, that container is removed and the
 * job is prepared afresh, as if there had been no prewarm (the prewarm's log lines are dropped,
 * the fresh prepare writes its own). `onPrepared` says when prepare has settled either way.
 */
import type { DockerExecutor } from '../executor/docker/docker-executor.js';
import { PrewarmLostError } from '../executor/docker/prewarm-lost-error.js';
import type { Executor, ScriptStage, StageResult } from '../executor/executor.js';
import type { ProjectFiles } from '../executor/project-files.js';
import type { JobVariable } from '../job/job-spec.js';
import type { JobStatusForScript } from '../job/runner-variables.js';
import { untilAborted } from '../shared/abort.js';

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
    private readonly warm: Prewarm | null,
    /** The executor of the job without prewarm, made only if the prewarm is of no use. */
    private readonly makeFresh: () => DockerExecutor,
    private readonly onPrepared: () => void = () => undefined,
  ) {
    this.current = warm?.executor ?? this.freshExecutor();
  }

  async prepare(signal: AbortSignal): Promise<void> {
    try {
      // A prepare tried again (runJob, after cleanup) starts afresh: the prewarm is gone by then.
      const warm = this.warmCleaned ? null : this.warm;
      if (warm && (await untilAborted(warm.ready, signal, () => warm.stop()))) {
        try {
          await warm.executor.prepare(signal);
          return;
        } catch (err) {
          // Its container was removed or stopped from outside: as if there had been no prewarm.
          if (!(err instanceof PrewarmLostError)) throw err;
        }
      }
      await this.cleanWarm();
      await this.freshExecutor().prepare(signal);
    } finally {
      this.onPrepared();
    }
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

  private freshExecutor(): DockerExecutor {
    this.fresh ??= this.makeFresh();
    this.current = this.fresh;
    return this.fresh;
  }

  /** Removes what the prewarm made, once it has settled. */
  private async cleanWarm(): Promise<string[]> {
    const warm = this.warm;
    if (!warm || this.warmCleaned) return [];
    this.warmCleaned = true;
    warm.stop();
    await warm.ready;
    return warm.executor.cleanup();
  }
}

