/**
 * FakeExecutor: an Executor for unit tests of whatever drives one (runJob, the remote job, the
 * runner worker, the daemon). Scriptable per stage, records every call in order:
 *
 *   const executor = new FakeExecutor({
 *     stages: { step_script: { exitCode: 1 }, after_script: { delayMs: Infinity } },  // Infinity: until stopped
 *     prepare: { throws: new JobFailure('image_pull_failure', 'no such image') },
 *   });
 *   await runJob({ ..., executor });
 *   executor.calls;          // [{ kind: 'prepare' }, { kind: 'stage', name: 'step_script', ... }, { kind: 'cleanup' }]
 *   executor.stageNames();   // ['step_script']
 *   executor.cleanedUp;      // true
 *
 * A stage that honours its signal (the default) ends with `stopped: true` when the signal
 * aborts, like the Docker stage runner; one that does not runs for its whole delay.
 */
import type { Executor, ScriptStage, StageResult } from '../../src/executor/executor.js';
import type { JobStatusForScript } from '../../src/job/runner-variables.js';
import type { JobVariable } from '../../src/job/job-spec.js';
import type { ProjectFiles } from '../../src/executor/project-files.js';

export interface FakeStage {
  /** Exit code when it runs to the end (default 0). */
  exitCode?: number;
  /** How long it runs, in ms (default 0; Infinity: until its signal aborts). */
  delayMs?: number;
  /** Stop when the signal aborts (default true). */
  honourAbort?: boolean;
  /** Exit code reported when stopped (default 143, SIGTERM). */
  stoppedExitCode?: number;
  /** Thrown instead of a result (an engine failure mid-stage). */
  throws?: Error;
  /** Runs until this settles (or its signal aborts, when honoured); then exits with exitCode. */
  until?: Promise<unknown>;
}

export interface FakePrepare {
  delayMs?: number;
  honourAbort?: boolean;
  throws?: Error;
  /** `throws` only on the first this many calls (default: every call). */
  throwsTimes?: number;
}

export interface FakeExecutorOptions {
  prepare?: FakePrepare;
  /** By section name: step_script, after_script, step_release, ... Unlisted stages exit 0 at once. */
  stages?: Record<string, FakeStage>;
  /** What cleanup reports it could not remove. */
  cleanupProblems?: string[];
  /** The project directory the cache and artifact stages see (default: none). */
  projectFiles?: ProjectFiles;
  /** The variables the stages see (default: none). */
  variables?: JobVariable[];
}

export type FakeExecutorCall =
  | { kind: 'prepare'; outcome: 'done' | 'threw' | 'aborted' }
  | {
      kind: 'stage';
      name: string;
      commands: readonly string[];
      jobStatus: JobStatusForScript;
      /** The signal was already aborted when the stage started. */
      abortedAtStart: boolean;
      result: StageResult | 'threw';
    }
  | { kind: 'cleanup' };

export class FakeExecutor implements Executor {
  readonly calls: FakeExecutorCall[] = [];
  /** Resolves when a stage starts, by name (to act while a stage runs). */
  private readonly started = new Map<string, { promise: Promise<void>; resolve: () => void }>();

  constructor(private readonly opts: FakeExecutorOptions = {}) {}

  get cleanedUp(): boolean {
    return this.calls.some((c) => c.kind === 'cleanup');
  }

  projectFiles(): ProjectFiles | null {
    return this.opts.projectFiles ?? null;
  }

  variables(): readonly JobVariable[] {
    return this.opts.variables ?? [];
  }

  stageNames(): string[] {
    return this.calls.flatMap((c) => (c.kind === 'stage' ? [c.name] : []));
  }

  stage(name: string): Extract<FakeExecutorCall, { kind: 'stage' }> | undefined {
    return this.calls.find((c): c is Extract<FakeExecutorCall, { kind: 'stage' }> => c.kind === 'stage' && c.name === name);
  }

  /** Resolves once the named stage has started. */
  stageStarted(name: string): Promise<void> {
    return this.startedEntry(name).promise;
  }

  async prepare(signal: AbortSignal): Promise<void> {
    const p = this.opts.prepare ?? {};
    const call: FakeExecutorCall = { kind: 'prepare', outcome: 'done' };
    this.calls.push(call);
    const stopped = await run(p.delayMs ?? 0, p.honourAbort ?? true, signal);
    const tries = this.calls.filter((c) => c.kind === 'prepare').length;
    if (p.throws && (p.throwsTimes === undefined || tries <= p.throwsTimes)) {
      call.outcome = 'threw';
      throw p.throws;
    }
    if (stopped) {
      call.outcome = 'aborted';
      throw signal.reason;
    }
  }

  async runStage(stage: ScriptStage, signal: AbortSignal): Promise<StageResult> {
    const s = this.opts.stages?.[stage.name] ?? {};
    const call: Extract<FakeExecutorCall, { kind: 'stage' }> = {
      kind: 'stage',
      name: stage.name,
      commands: stage.commands,
      jobStatus: stage.jobStatus,
      abortedAtStart: signal.aborted,
      result: 'threw',
    };
    this.calls.push(call);
    this.startedEntry(stage.name).resolve();
    const stopped = s.until
      ? await Promise.race([s.until.then(() => false), run(Infinity, s.honourAbort ?? true, signal)])
      : await run(s.delayMs ?? 0, s.honourAbort ?? true, signal);
    if (s.throws) throw s.throws;
    call.result = stopped ? { exitCode: s.stoppedExitCode ?? 143, stopped: true } : { exitCode: s.exitCode ?? 0, stopped: false };
    return call.result;
  }

  async cleanup(): Promise<string[]> {
    this.calls.push({ kind: 'cleanup' });
    return [...(this.opts.cleanupProblems ?? [])];
  }

  private startedEntry(name: string): { promise: Promise<void>; resolve: () => void } {
    let e = this.started.get(name);
    if (!e) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      e = { promise, resolve };
      this.started.set(name, e);
    }
    return e;
  }
}

/** Waits `ms` (Infinity: forever) or, when honouring it, until the signal aborts; true if stopped. */
function run(ms: number, honourAbort: boolean, signal: AbortSignal): Promise<boolean> {
  if (honourAbort && signal.aborted) return Promise.resolve(true);
  if (ms <= 0) return Promise.resolve(false);
  return new Promise((resolve) => {
    const timer = Number.isFinite(ms) ? setTimeout(() => done(false), ms) : null;
    const onAbort = (): void => done(true);
    const done = (stopped: boolean): void => {
      if (timer) clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(stopped);
    };
    if (honourAbort) signal.addEventListener('abort', onAbort, { once: true });
  });
}
