/**
 * `berth exec`: compile the pipeline and list it (`--list`), or hand it to runExecJobs, which
 * runs the jobs in Docker. The run path is imported only when jobs run, so that `--list` never
 * loads (nor, in the bundle, compiles) the Docker client and the executor.
 */
import { resolve } from 'node:path';
import { compilePipeline, formatJobList, jobListJson, readLocalGitInfo } from '../pipeline/index.js';
import type { ExecOptions } from './exec-options.js';

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
    changesBase: opts.changesBase,
    includes: opts.includes,
  });
  for (const w of pipeline.warnings) process.stderr.write(`berth: warning: ${w}\n`);
  if (opts.list) {
    out.write(opts.json ? `${JSON.stringify(jobListJson(pipeline), null, 2)}\n` : formatJobList(pipeline));
    return 0;
  }
  const { runExecJobs } = await import('./run-exec-jobs.js');
  return runExecJobs(opts, { cwd, git, pipeline }, out);
}
