/**
 * `berth exec`: compile the pipeline, pick the jobs, run them through the Docker executor with
 * a DAG scheduler, print each job's log prefixed with its name, then a summary; write a JSON
 * report on request. Ctrl-C once: stop the jobs gracefully (after_script still runs) and clean
 * up; twice: abort them; three times: leave at once.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { ExecOptions } from '../cli/commands/exec.js';
import { compilePipeline, selectJobs, formatJobList, readLocalGitInfo, listSourceFiles } from '../pipeline/index.js';
import { DockerodeEngine, engineEndpoint } from '../docker/dockerode-engine.js';
import { defaultDockerSettings } from '../executor/docker-settings.js';
import { OwnContainerFinder } from '../executor/own-container.js';
import { PullManager } from '../executor/pull-manager.js';
import { JobFailure } from '../job/job-result.js';
import type { PullPolicy } from '../job/job-spec.js';
import { BERTH_VERSION } from '../cli/version.js';
import { errorMessage } from '../shared/errors.js';
import { buildReport, exitCodeOf, formatSummary } from './pipeline-report.js';
import { schedulePipeline, type SchedulableJob } from './pipeline-scheduler.js';
import { checkDefaultImage, checkJobImages } from './check-job-images.js';
import { ExecJobRunner } from './exec-job-runner.js';
import { sweepExecLeftovers } from './exec-sweeper.js';

export async function runExec(opts: ExecOptions, out: NodeJS.WritableStream = process.stdout): Promise<number> {
  const cwd = resolve(opts.cwd);
  const git = await readLocalGitInfo(cwd);
  const pipeline = await compilePipeline({
    cwd,
    file: opts.file,
    variables: opts.variables,
    publicVariables: opts.publicVariables,
    git,
    listFiles: false,
  });
  for (const w of pipeline.warnings) process.stderr.write(`berth: warning: ${w}\n`);
  if (opts.list) {
    out.write(formatJobList(pipeline));
    return 0;
  }
  const selected: SchedulableJob[] = opts.jobs.length ? selectJobs(pipeline, opts.jobs, opts.needs) : pipeline.jobs;
  if (!selected.length) {
    out.write('No jobs to run.\n');
    return 0;
  }
  checkDefaultImage(opts.dockerImage);
  checkJobImages(selected, pipeline.file, pipeline.root);

  const engine = new DockerodeEngine();
  await engine.ping().catch((err: unknown) => {
    throw new JobFailure('runner_system_failure', `the Docker engine at ${engineEndpoint()} cannot be used: ${errorMessage(err)}`, { cause: err });
  });
  const sources = { root: cwd, files: await listSourceFiles(cwd) };
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
  const sweep = sweepExecLeftovers(engine).catch(() => 0);

  const runner = new ExecJobRunner({
    engine,
    puller,
    settings,
    ownContainer: new OwnContainerFinder(),
    version: BERTH_VERSION,
    debugTraceDisabled: opts.debugTraceDisabled,
    sources,
    color: opts.color,
    nameWidth: Math.max(...selected.map((j) => j.name.length)),
    logDir: join(cwd, '.berth', 'logs'),
    outputLimitBytes: opts.outputLimitKiB * 1024,
    out,
    cancel: cancel.signal,
    abort: abort.signal,
  });
  try {
    const outcomes = await schedulePipeline(selected, {
      stages: pipeline.stages,
      concurrency: opts.concurrency,
      runManual: new Set(opts.jobs),
      stop: cancel.signal,
      runJob: (job) => runner.run(job, selected.indexOf(job)),
    });
    await runner.drain();
    const report = buildReport(outcomes);
    out.write(`\n${formatSummary(report, opts.color)}`);
    out.write(`Job logs: ${join(cwd, '.berth', 'logs')}\n`);
    if (opts.report) {
      const path = resolve(opts.report);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
    }
    return exitCodeOf(report);
  } finally {
    await runner.drain();
    await sweep;
    removeSignals();
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
