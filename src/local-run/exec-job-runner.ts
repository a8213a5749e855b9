/**
 * Runs one pipeline job for `berth exec`: its log goes to the terminal (prefixed lines) and to
 * `.berth/logs/<job>.log`, through the masking filter; the job itself goes through the same
 * Docker executor and runJob as `berth run`.
 *
 * It is also the scheduler's Prewarmer: a job named as next gets its build container created and
 * its sources copied in (nothing started) while the jobs before it run. The prewarm uses the
 * job's spec as far as it is known before its turn; when the job runs with anything else (a
 * dependency's dotenv variables), the prewarmed container is removed and the job prepared afresh.
 * A prewarmed job that does not run has its container removed; drain() waits for that too.
 */
import type { EngineClient } from '../engine/engine-client.js';
import { DockerExecutor } from '../executor/docker/docker-executor.js';
import type { DockerSettings } from '../executor/docker/docker-settings.js';
import type { ImagePuller } from '../executor/image-puller.js';
import type { OwnContainerFinder } from '../executor/docker/own-container.js';
import { runJob } from '../executor/run-job.js';
import type { RunnerIdentity } from '../executor/runner-identity.js';
import { LocalTreeSource, type LocalSubmoduleLister } from '../executor/source-provider.js';
import { DEFAULT_BUILDS_DIR } from '../job/build-dir.js';
import type { JobResult } from '../job/job-result.js';
import type { DependencySpec, JobSpec, JobVariable } from '../job/job-spec.js';
import type { CacheTransport } from '../executor/job-files/transports.js';
import type { LocalArtifactStore } from './local-artifact-store.js';
import { errorMessage } from '../shared/errors.js';
import { TeeByteWriter } from '../log/byte-writer.js';
import { JobLog } from '../log/job-log.js';
import type { ByteWriter } from '../log/byte-writer.js';
import { createMaskingFilter } from '../log/masker.js';
import { execOwnerLabels } from './exec-sweeper.js';
import type { Prewarmer, SchedulableJob } from './pipeline-scheduler.js';
import { DeferredByteWriter } from './deferred-byte-writer.js';
import { PrewarmedExecutor, type Prewarm } from './prewarmed-executor.js';
import { OutputLimitWriter } from './output-limit-writer.js';
import { PlainFileLog } from './plain-file-log.js';
import { withJobId } from './retry-job-id.js';
import type { JobLogFiles } from './job-log-files.js';
import { TerminalJobLog } from './terminal-log.js';

export interface ExecJobRunnerOptions {
  engine: EngineClient;
  puller: ImagePuller;
  settings: DockerSettings;
  /** berth's own container, when it runs in one (found once per process). */
  ownContainer?: OwnContainerFinder;
  version: string;
  /** `--debug-trace-disabled` (as `debug_trace_disabled` of `[[runners]]`): CI_DEBUG_TRACE is ignored. */
  debugTraceDisabled: boolean;
  /** The working tree's files (relative to `sources.root`), listed once per run. */
  sources: { root: string; files: string[] };
  /** The submodules checked out in the working tree, listed for the jobs that ask (GIT_SUBMODULE_STRATEGY); none outside a git repository. */
  submodules?: LocalSubmoduleLister;
  color: boolean;
  nameWidth: number;
  /** The job log files under `.berth/logs/`, checked before the run. */
  logs: JobLogFiles;
  /** Bytes of one job's log (file and terminal) before GitLab's "exceeded limit" notice; the rest is dropped. */
  outputLimitBytes: number;
  out: NodeJS.WritableStream;
  cancel: AbortSignal;
  abort: AbortSignal;
  /** Job artifacts under `.berth/artifacts/`. */
  artifacts: LocalArtifactStore;
  /** The local cache under `.berth/cache/`. */
  cache: CacheTransport | null;
  /** Keys given on the command line: a dependency's dotenv variable does not override them. */
  commandLineKeys: ReadonlySet<string>;
  /** Jobs of the pipeline that make something a dependent receives (`artifacts:paths`/`untracked`, a dotenv report). */
  artifactProducers?: ReadonlySet<string>;
  /**
   * The jobs this berth exec runs when their turn comes. A dependency among them that did not
   * run (skipped after a failure, a manual job not played) gives nothing, as in GitLab's pipeline;
   * only one left out of the run (`berth exec test`) gives what its last run stored.
   */
  inThisRun?: ReadonlySet<string>;
  /** Where a problem outside any job's log goes (removing a prewarmed container of a job that did not run). */
  warn?: (text: string) => void;
  /** The id the first job run again by `retry:` gets, then the next: above every id of the pipeline (GitLab makes a retry a new job). */
  firstRetryId: number;
}

/** A job prepared before its turn, with the log its prepare wrote to (kept until the job runs). */
interface WarmJob extends Prewarm {
  spec: JobSpec;
  log: JobLog;
  sink: DeferredByteWriter;
  /** The job's turn came: a prewarm still queued behind other jobs' prepare starts now. */
  turnCame(): void;
}

export class ExecJobRunner implements Prewarmer {
  private readonly identity: RunnerIdentity;
  /** Jobs whose result is known but whose containers may still be going away. */
  private readonly cleanups = new Set<Promise<unknown>>();
  /** Jobs prepared before their turn, by name. */
  private readonly warm = new Map<string, WarmJob>();
  /** Jobs whose turn came and whose prepare has not settled: they go first, prewarms wait for them. */
  private readonly preparing = new Set<Promise<void>>();

  constructor(private readonly opts: ExecJobRunnerOptions) {
    this.nextRetryId = opts.firstRetryId;
    this.identity = {
      name: 'berth-exec',
      shortToken: 'exec',
      systemId: 'local',
      runnerId: 0,
      buildsDir: DEFAULT_BUILDS_DIR,
      environment: [],
      preGetSourcesScript: '',
      postGetSourcesScript: '',
      preBuildScript: '',
      postBuildScript: '',
      debugTraceDisabled: opts.debugTraceDisabled,
      featureFlags: {},
      version: opts.version,
    };
  }

  private readonly ranThisTime = new Set<string>();
  /** Per job run this time, the id of its latest run (a retry has a new one): what its dependents download from. */
  private readonly latestIds = new Map<string, number>();
  private nextRetryId: number;
  /** Per job, its log file and where its last run begins in it (for `coverage:`). */
  private readonly lastRuns = new Map<string, { path: string; start: number }>();

  /** `retry`: 0 for the job's first run, then 1, 2 when `retry:` runs it again (its run is added to the job's log file). */
  async run(job: SchedulableJob, index: number, retry = 0): Promise<JobResult> {
    this.ranThisTime.add(job.name);
    const { opts } = this;
    const warm = this.warm.get(job.name);
    this.warm.delete(job.name);
    let prepared!: () => void;
    const preparing = new Promise<void>((resolve) => (prepared = resolve));
    this.preparing.add(preparing);
    void preparing.then(() => this.preparing.delete(preparing));
    // Emptied while the log file opens and the dependencies' artifacts are read.
    const resetting = opts.artifacts.reset(job.name);
    resetting.catch(() => undefined);
    const terminal = new TerminalJobLog(job.name, index, {
      color: opts.color,
      nameWidth: opts.nameWidth,
      write: (text) => opts.out.write(text),
    });
    // On the way from one job to the next: the log file opens while the dependencies' artifacts are read.
    const opening = opts.logs.open(job.name, retry > 0);
    opening.catch(() => undefined);
    const received = await this.receivedArtifacts(job.spec);
    const first = this.specOf(job, received.dependencies, received.dotenv);
    const spec = retry > 0 ? withJobId(first, this.nextRetryId++) : first;
    this.latestIds.set(job.name, spec.id);
    let file: PlainFileLog;
    try {
      file = await opening;
      this.lastRuns.set(job.name, { path: file.path, start: file.start });
    } catch (err) {
      prepared();
      if (warm) this.discardWarm(job.name, warm);
      terminal.write(Buffer.from(`ERROR: Job failed: ${errorMessage(err)}\n`));
      terminal.end();
      return { state: 'failed', failureReason: 'runner_system_failure', exitCode: null, durationMs: 0, message: errorMessage(err) };
    }
    const sink = new OutputLimitWriter(new TeeByteWriter([terminal, file]), opts.outputLimitBytes);
    // The prewarmed container was made with exactly this job's variables, or it is not used.
    const adopt = warm && sameVariables(warm.spec.variables, spec.variables) ? warm : null;
    if (warm && !adopt) this.discardWarm(job.name, warm);
    if (adopt) {
      adopt.turnCame();
      adopt.sink.open(sink);
    }
    const log = adopt?.log ?? this.logFor(spec, sink);
    const executor = new PrewarmedExecutor(adopt, () => this.executorFor(spec, log), prepared);
    let announce!: (r: JobResult) => void;
    const announced = new Promise<JobResult>((resolve) => (announce = resolve));
    if (retry) log.println(`Retrying the job after its failure (retry ${retry} of ${job.retry?.max ?? retry}, retry:max)`);
    for (const note of received.notes) log.println(note);
    for (const warning of received.warnings) log.warning(warning);
    try {
      await resetting;
    } catch (err) {
      prepared();
      if (adopt) this.discardWarm(job.name, adopt);
      log.end();
      throw err;
    }
    const files = { artifacts: opts.artifacts.transportFor(job.name), cache: opts.cache, tempRoot: opts.artifacts.tempRoot };
    const whole = runJob({ job: spec, executor, log, runner: this.identity, cancel: opts.cancel, abort: opts.abort, onResult: announce, files })
      .then(announce)
      .finally(() => {
        prepared();
        log.end();
      });
    this.track(whole);
    return announced;
  }

  /**
   * Prepares a job before its turn (the scheduler's Prewarmer), when that runs nothing: a job
   * with services is left to its turn. Its spec is the job's as known now: the dependencies'
   * dotenv variables are not (run() compares, and prepares afresh when they differ).
   */
  prepare(job: SchedulableJob): boolean {
    const { opts } = this;
    if (opts.abort.aborted || opts.cancel.aborted || this.warm.has(job.name)) return false;
    const spec = this.specOf(job, job.spec.dependencies, []);
    const sink = new DeferredByteWriter();
    const log = this.logFor(spec, sink);
    const executor = this.executorFor(spec, log);
    if (!executor.canPrewarm) return false;
    const stop = new AbortController();
    const signal = AbortSignal.any([stop.signal, opts.abort]);
    // After the prepare of the jobs whose turn has come: they are on the critical path, this is
    // not; unless this job's own turn comes first (it must not wait for another job's slow pull).
    let turnCame!: () => void;
    const turn = new Promise<void>((resolve) => (turnCame = resolve));
    const ready = Promise.race([Promise.all(this.preparing), turn])
      .then(() => (signal.aborted ? false : executor.prewarm(signal).then(() => true)))
      .catch(() => false);
    const stopNow = (): void => {
      stop.abort();
      turnCame();
    };
    this.warm.set(job.name, { spec, log, sink, executor, ready, stop: stopNow, turnCame });
    return true;
  }

  /** The log file of the job's last run and where that run begins in it; undefined when it never ran. */
  lastRunLog(jobName: string): { path: string; start: number } | undefined {
    return this.lastRuns.get(jobName);
  }

  /** The job was prepared but does not run: its container goes, nothing of it is written. */
  discard(job: SchedulableJob): void {
    const warm = this.warm.get(job.name);
    if (!warm) return;
    this.warm.delete(job.name);
    this.discardWarm(job.name, warm);
  }

  private discardWarm(name: string, warm: WarmJob): void {
    warm.stop();
    const warn = this.opts.warn ?? ((text: string) => process.stderr.write(`berth: warning: ${text}\n`));
    this.track(
      warm.ready
        .then(() => warm.executor.cleanup())
        .then((problems) => {
          for (const p of problems) warn(`could not remove the container prepared for job "${name}": ${p}`);
        }),
    );
  }

  private specOf(job: SchedulableJob, dependencies: DependencySpec[], dotenv: JobVariable[]): JobSpec {
    const { sources } = this.opts;
    return {
      ...job.spec,
      sources: { kind: 'local-tree' as const, root: sources.root, files: sources.files },
      dependencies,
      variables: [...job.spec.variables, ...dotenv],
    };
  }

  private logFor(spec: JobSpec, sink: ByteWriter): JobLog {
    const phrases = spec.variables.filter((v) => v.masked).map((v) => v.value);
    return new JobLog(sink, { filter: createMaskingFilter({ phrases, tokenPrefixes: spec.features.tokenMaskPrefixes }) });
  }

  private executorFor(spec: JobSpec, log: JobLog): DockerExecutor {
    const { opts } = this;
    return new DockerExecutor(
      {
        engine: opts.engine,
        puller: opts.puller,
        settings: opts.settings,
        runner: this.identity,
        sources: new LocalTreeSource(opts.submodules),
        labels: execOwnerLabels(),
        ownContainer: opts.ownContainer,
      },
      spec,
      log,
    );
  }

  private track(work: Promise<unknown>): void {
    const settled = work.catch(() => undefined);
    this.cleanups.add(settled);
    void settled.finally(() => this.cleanups.delete(settled));
  }

  /**
   * What a job receives from the jobs it depends on (GitLab's dependency set, computed by the
   * compiler): their `archive` artifacts and their dotenv variables (after the job's own
   * variables, never over a command-line one, expanded as GitLab expands them: they are not
   * raw). A dependency left out of this run gives what its last run stored; one in this run that
   * did not run gives nothing.
   */
  private async receivedArtifacts(spec: JobSpec): Promise<{ dependencies: DependencySpec[]; dotenv: JobVariable[]; notes: string[]; warnings: string[] }> {
    const dependencies: DependencySpec[] = [];
    const dotenv: JobVariable[] = [];
    const notes: string[] = [];
    const warnings: string[] = [];
    const read = await Promise.all(spec.dependencies.map((dep) => this.opts.artifacts.read(dep.name)));
    for (const [i, dep] of spec.dependencies.entries()) {
      const ran = this.ranThisTime.has(dep.name);
      // An older run's files and variables must not stand in for a job of this pipeline that did not run.
      const stored = !ran && this.opts.inThisRun?.has(dep.name) ? undefined : read[i];
      const archive = stored?.artifacts.find((a) => a.type === 'archive');
      // GitLab hands a job the artifacts of a dependency's latest run: a retried one has a new id.
      const id = this.latestIds.get(dep.name) ?? dep.id;
      dependencies.push({ ...dep, id, artifactsFile: archive ? { filename: archive.filename, size: archive.size } : null });
      for (const v of stored?.dotenv ?? []) {
        if (this.opts.commandLineKeys.has(v.key)) continue;
        // GitLab stores dotenv variables as not raw (Ci::JobVariable): `$VAR` in a value is expanded.
        dotenv.push({ key: v.key, value: v.value, public: false, masked: false, file: false, raw: false });
      }
      if (stored && !ran) notes.push(`Using the artifacts of "${dep.name}" from an earlier berth exec run`);
      else if (!stored && !ran && !this.opts.inThisRun?.has(dep.name) && this.opts.artifactProducers?.has(dep.name)) {
        warnings.push(`No artifacts of "${dep.name}": it did not run in this berth exec and no earlier run stored any: run it first, or name it too`);
      }
    }
    return { dependencies, dotenv, notes, warnings };
  }

  /** Resolves when every job's cleanup has finished, prepared jobs that did not run included. */
  async drain(): Promise<void> {
    for (const [name, warm] of [...this.warm]) {
      this.warm.delete(name);
      this.discardWarm(name, warm);
    }
    while (this.cleanups.size) await Promise.allSettled([...this.cleanups]);
  }
}

/** The same variables, in the same order, with the same attributes. */
function sameVariables(a: readonly JobVariable[], b: readonly JobVariable[]): boolean {
  return a.length === b.length && a.every((v, i) => JSON.stringify(v) === JSON.stringify(b[i]));
}

