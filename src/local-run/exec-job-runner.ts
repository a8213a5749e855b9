/**
 * Runs one pipeline job for `berth exec`: its log goes to the terminal (prefixed lines) and to
 * `.berth/logs/<job>.log`, through the masking filter; the job itself goes through the same
 * Docker executor and runJob as `berth run`.
 */
import type { EngineClient } from '../engine/engine-client.js';
import { DockerExecutor } from '../executor/docker/docker-executor.js';
import type { DockerSettings } from '../executor/docker/docker-settings.js';
import type { ImagePuller } from '../executor/image-puller.js';
import type { OwnContainerFinder } from '../executor/docker/own-container.js';
import { runJob } from '../executor/run-job.js';
import type { RunnerIdentity } from '../executor/runner-identity.js';
import { LocalTreeSource } from '../executor/source-provider.js';
import { DEFAULT_BUILDS_DIR } from '../job/build-dir.js';
import type { JobResult } from '../job/job-result.js';
import type { DependencySpec, JobSpec, JobVariable } from '../job/job-spec.js';
import type { CacheTransport } from '../executor/job-files/transports.js';
import type { LocalArtifactStore } from './local-artifact-store.js';
import { errorMessage } from '../shared/errors.js';
import { TeeByteWriter } from '../log/byte-writer.js';
import { JobLog } from '../log/job-log.js';
import { createMaskingFilter } from '../log/masker.js';
import { execOwnerLabels } from './exec-sweeper.js';
import type { SchedulableJob } from './pipeline-scheduler.js';
import { OutputLimitWriter } from './output-limit-writer.js';
import { PlainFileLog } from './plain-file-log.js';
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
}

export class ExecJobRunner {
  private readonly identity: RunnerIdentity;
  /** Jobs whose result is known but whose containers may still be going away. */
  private readonly cleanups = new Set<Promise<unknown>>();

  constructor(private readonly opts: ExecJobRunnerOptions) {
    this.identity = {
      name: 'berth-exec',
      shortToken: 'exec',
      systemId: 'local',
      runnerId: 0,
      buildsDir: DEFAULT_BUILDS_DIR,
      environment: [],
      preBuildScript: '',
      postBuildScript: '',
      debugTraceDisabled: opts.debugTraceDisabled,
      featureFlags: {},
      version: opts.version,
    };
  }

  private readonly ranThisTime = new Set<string>();

  async run(job: SchedulableJob, index: number): Promise<JobResult> {
    this.ranThisTime.add(job.name);
    const { opts } = this;
    const received = await this.receivedArtifacts(job.spec);
    const spec: JobSpec = {
      ...job.spec,
      sources: { kind: 'local-tree' as const, root: opts.sources.root, files: opts.sources.files },
      dependencies: received.dependencies,
      variables: [...job.spec.variables, ...received.dotenv],
    };
    const terminal = new TerminalJobLog(job.name, index, {
      color: opts.color,
      nameWidth: opts.nameWidth,
      write: (text) => opts.out.write(text),
    });
    let file: PlainFileLog;
    try {
      file = await opts.logs.open(job.name);
    } catch (err) {
      terminal.write(Buffer.from(`ERROR: Job failed: ${errorMessage(err)}\n`));
      terminal.end();
      return { state: 'failed', failureReason: 'runner_system_failure', exitCode: null, durationMs: 0, message: errorMessage(err) };
    }
    const phrases = spec.variables.filter((v) => v.masked).map((v) => v.value);
    const log = new JobLog(new OutputLimitWriter(new TeeByteWriter([terminal, file]), opts.outputLimitBytes), {
      filter: createMaskingFilter({ phrases, tokenPrefixes: spec.features.tokenMaskPrefixes }),
    });
    const executor = new DockerExecutor(
      {
        engine: opts.engine,
        puller: opts.puller,
        settings: opts.settings,
        runner: this.identity,
        sources: new LocalTreeSource(),
        labels: execOwnerLabels(),
        ownContainer: opts.ownContainer,
      },
      spec,
      log,
    );
    let announce!: (r: JobResult) => void;
    const announced = new Promise<JobResult>((resolve) => (announce = resolve));
    for (const note of received.notes) log.println(note);
    await opts.artifacts.reset(job.name);
    const files = { artifacts: opts.artifacts.transportFor(job.name), cache: opts.cache, tempRoot: opts.artifacts.tempRoot };
    const whole = runJob({ job: spec, executor, log, runner: this.identity, cancel: opts.cancel, abort: opts.abort, onResult: announce, files })
      .then(announce)
      .finally(() => log.end());
    this.cleanups.add(whole);
    void whole.finally(() => this.cleanups.delete(whole));
    return announced;
  }

  /**
   * What a job receives from the jobs it depends on (GitLab's dependency set, computed by the
   * compiler): their `archive` artifacts and their dotenv variables (after the job's own
   * variables, never over a command-line one). A dependency that did not run in this pipeline
   * gives what its last run stored.
   */
  private async receivedArtifacts(spec: JobSpec): Promise<{ dependencies: DependencySpec[]; dotenv: JobVariable[]; notes: string[] }> {
    const dependencies: DependencySpec[] = [];
    const dotenv: JobVariable[] = [];
    const notes: string[] = [];
    for (const dep of spec.dependencies) {
      const stored = await this.opts.artifacts.read(dep.name);
      const archive = stored?.artifacts.find((a) => a.type === 'archive');
      dependencies.push({ ...dep, artifactsFile: archive ? { filename: archive.filename, size: archive.size } : null });
      for (const v of stored?.dotenv ?? []) {
        if (this.opts.commandLineKeys.has(v.key)) continue;
        dotenv.push({ key: v.key, value: v.value, public: false, masked: false, file: false, raw: true });
      }
      if (stored && !this.ranThisTime.has(dep.name)) notes.push(`Using the artifacts of "${dep.name}" from an earlier berth exec run`);
    }
    return { dependencies, dotenv, notes };
  }

  /** Resolves when every job's cleanup has finished. */
  async drain(): Promise<void> {
    while (this.cleanups.size) await Promise.allSettled([...this.cleanups]);
  }
}
