/**
 * `berth exec` once the pipeline is compiled (run-exec.ts): pick the jobs, run them through the
 * Docker executor with a DAG scheduler, print each job's log prefixed with its name, then a
 * summary; write a JSON report on request. Ctrl-C once: stop the jobs gracefully (after_script
 * still runs) and clean up; twice: abort them; three times: leave at once.
 */
import { homedir } from 'node:os';
import { selectJobs, listSourceFiles, LocalSubmodules, type LocalGitInfo, type Pipeline } from '../pipeline/index.js';
import { DockerodeEngine } from '../engine/dockerode-engine.js';
import { defaultDockerSettings } from '../executor/docker/docker-settings.js';
import { OwnContainerFinder } from '../executor/docker/own-container.js';
import { PullManager } from '../executor/docker/pull-manager.js';
import type { ExecOptions } from './exec-options.js';
import { EngineUnavailableError } from '../engine/engine-error.js';
import { JobFailure } from '../job/job-result.js';
import type { PullPolicy } from '../shared/pull-policy.js';
import { BERTH_VERSION } from '../shared/version.js';
import { errorMessage, isAbortError } from '../shared/errors.js';
import { checkWritableUnder, prepareUserTarget, writeFileUnder } from '../fs-guard/index.js';
import { JobLogFiles } from './job-log-files.js';
import { buildReport, exitCodeOf, formatSummary } from './pipeline-report.js';
import { schedulePipeline, type SchedulableJob } from './pipeline-scheduler.js';
import { checkDefaultImage, checkJobImages } from './check-job-images.js';
import { ExecJobRunner } from './exec-job-runner.js';
import { collectCoverage } from './job-coverage.js';
import { collectJunitResults, formatJunitResults } from './junit-results.js';
import { LocalArtifactStore } from './local-artifact-store.js';
import { openLocalCache } from './local-cache.js';
import { sweepExecLeftovers } from './exec-sweeper.js';
import { formatSweepFailure } from '../engine/sweep-labelled.js';
import { stopWhenOutputCloses } from './closed-output.js';

/** What run-exec.ts has already worked out: the repository, its git facts, the compiled pipeline. */
export interface CompiledExec {
  cwd: string;
  git: LocalGitInfo;
  pipeline: Pipeline;
}

const ENGINE_PING_TIMEOUT_MS = 30_000;

export async function runExecJobs(opts: ExecOptions, compiled: CompiledExec, out: NodeJS.WritableStream): Promise<number> {
  const { cwd, git, pipeline } = compiled;
  const selected: SchedulableJob[] = opts.jobs.length ? selectJobs(pipeline, opts.jobs, opts.needs) : pipeline.jobs;
  if (!selected.length) {
    out.write('No jobs to run.\n');
    return 0;
  }
  // Before anything runs: statically wrong image names are pipeline errors, and a repository must
  // not make berth write outside it (links in .berth/, a report path through a link); exit 2.
  checkDefaultImage(opts.dockerImage);
  checkJobImages(selected, pipeline.file, pipeline.root);
  await JobLogFiles.check(cwd, selected.map((j) => j.name));
  const reportTarget = opts.report ? await prepareUserTarget(opts.report, [cwd, git.root]) : null;
  if (reportTarget) await checkWritableUnder(reportTarget.root, reportTarget.rel);

  const engine = new DockerodeEngine(opts.engine);
  // Listing the sources (git ls-files) needs no engine: it runs while the engine answers.
  const listing = listSourceFiles(cwd, git.isRepo);
  listing.catch(() => undefined);
  // A bounded first contact: an engine behind a firewall that drops packets would otherwise hold
  // berth for the kernel's whole connect timeout (about two minutes).
  await engine.ping(AbortSignal.timeout(ENGINE_PING_TIMEOUT_MS)).catch((err: unknown) => {
    const reason = isAbortError(err) || (err instanceof Error && err.name === 'TimeoutError') ? `no answer within ${ENGINE_PING_TIMEOUT_MS / 1000} s` : err;
    throw new EngineUnavailableError('berth exec', engine.endpoint, reason);
  });
  // The folders under .berth/ only once the engine answered: an engine error leaves nothing behind.
  const [logs, sourceFiles, artifacts, cache] = await Promise.all([
    JobLogFiles.prepare(cwd, selected.map((j) => j.name)),
    listing,
    LocalArtifactStore.open(cwd),
    openLocalCache(cwd),
  ]);
  const sources = { root: cwd, files: sourceFiles };
  // Locally the user owns the machine: a job may ask for any pull policy.
  const settings = { ...defaultDockerSettings(), image: opts.dockerImage ?? '', allowedPullPolicies: ['always', 'if-not-present', 'never'] as PullPolicy[] };
  const puller = new PullManager({
    engine,
    settings,
    defaultPullPolicy: 'if-not-present',
    policyOverride: opts.pullPolicy ? [opts.pullPolicy] : undefined,
    runnerEnvironment: [],
    homeDir: homedir(),
  });
  const cancel = new AbortController();
  const abort = new AbortController();
  const removeSignals = installSignals(cancel, abort, out);
  // A reader that quits (`berth exec | head`) stops the jobs as Ctrl-C does, instead of a crash that leaves them behind.
  const removeClosedOutput = stopWhenOutputCloses([...new Set([out, process.stdout, process.stderr])], () => cancel.abort());
  const sweep = sweepExecLeftovers(engine).then(
    (report) => {
      for (const f of report.failed) process.stderr.write(`berth: warning: could not remove what an earlier berth exec left: ${formatSweepFailure(f)}\n`);
    },
    (err: unknown) => process.stderr.write(`berth: warning: the sweep for what an earlier berth exec left failed: ${errorMessage(err)}\n`),
  );

  const runner = new ExecJobRunner({
    engine,
    puller,
    settings,
    ownContainer: new OwnContainerFinder(),
    version: BERTH_VERSION,
    debugTraceDisabled: opts.debugTraceDisabled,
    sources,
    // Read only for a job with GIT_SUBMODULE_STRATEGY normal or recursive, once per strategy and paths.
    ...(git.isRepo ? { submodules: new LocalSubmodules(cwd) } : {}),
    color: opts.color,
    nameWidth: Math.max(...selected.map((j) => j.name.length)),
    logs,
    outputLimitBytes: opts.outputLimitKiB * 1024,
    out,
    cancel: cancel.signal,
    abort: abort.signal,
    artifacts,
    cache,
    commandLineKeys: new Set(Object.keys(opts.variables)),
    firstRetryId: Math.max(0, ...pipeline.jobs.map((j) => j.spec.id)) + 1,
    inThisRun: new Set(selected.map((j) => j.name)),
    artifactProducers: new Set(pipeline.jobs.filter((j) => j.spec.artifacts.some((a) => ['', 'archive', 'dotenv'].includes(a.artifactType))).map((j) => j.name)),
  });
  try {
    const outcomes = await schedulePipeline(selected, {
      stages: pipeline.stages,
      concurrency: opts.concurrency,
      // The jobs named on the command line, with every job of a named parallel: job.
      runManual: new Set(opts.jobs.length ? selectJobs(pipeline, opts.jobs, false).map((j) => j.name) : []),
      stop: cancel.signal,
      runJob: (job, retry) => runner.run(job, selected.indexOf(job), retry),
      // The next jobs' build containers are made (and their shells started) while the jobs before
      // them run, unless --no-prewarm (bench/exec-overhead: 0.78-0.88x the time without it).
      prewarm: opts.prewarm ? runner : undefined,
    });
    await runner.drain();
    // Running the whole pipeline: the summary also says which jobs were left out, and by which clause.
    const report = buildReport(outcomes, opts.jobs.length ? [] : pipeline.skipped);
    const ran = outcomes.filter((o) => o.result !== null);
    const patterns = new Map(pipeline.jobs.map((j) => [j.name, j.coverage]));
    const coverage = await collectCoverage(ran.map((o) => ({ name: o.job.name, pattern: patterns.get(o.job.name) ?? null })), (name) => runner.lastRunLog(name));
    for (const c of coverage) {
      const job = report.jobs.find((j) => j.name === c.job);
      if (job) job.coverage = c.coverage;
      if (c.problem) process.stderr.write(`berth: warning: job "${c.job}": ${c.problem}\n`);
    }
    const tests = await collectJunitResults(artifacts, ran.map((o) => o.job.name));
    if (tests.length) report.tests = tests.map((t) => ({ job: t.job, ...t.summary, problems: t.problems }));
    out.write(formatJunitResults(tests));
    out.write(`\n${formatSummary(report, opts.color)}`);
    out.write(`Job logs: ${logs.dir}\n`);
    if (reportTarget) await writeFileUnder(reportTarget.root, reportTarget.rel, `${JSON.stringify(report, null, 2)}\n`);
    return exitCodeOf(report);
  } finally {
    await runner.drain();
    await sweep;
    removeSignals();
    removeClosedOutput();
  }
}

function installSignals(cancel: AbortController, abort: AbortController, out: NodeJS.WritableStream): () => void {
  let count = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    count++;
    if (count === 1 && signal === 'SIGINT') {
      out.write('\nStopping jobs gracefully (after_script still runs). Press Ctrl-C again to force.\n');
      cancel.abort();
    } else if (count <= 2) {
      out.write('\nAborting jobs and cleaning up. Press Ctrl-C again to leave at once.\n');
      cancel.abort();
      abort.abort(new JobFailure('runner_interrupted', `berth exec was interrupted (${signal})`));
    } else {
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
