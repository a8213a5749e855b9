/**
 * `berth exec` checks the image references of the jobs it is about to run before anything
 * runs: an invalid `image:` or `services:` name (after expanding the job's variables) is a
 * pipeline error (exit 2) naming the file, the job and the key, not a job that fails later.
 * A name that uses a variable the job does not define is left to the executor (it may be
 * set when the job runs).
 */
import { relative } from 'node:path';
import { ImageRefError, parseImageRef } from '../image/image-ref.js';
import type { JobVariable } from '../job/job-spec.js';
import { expandWith } from '../job/variables.js';
import { InputError } from '../shared/errors.js';
import type { SchedulableJob } from './pipeline-scheduler.js';

export function checkJobImages(jobs: readonly SchedulableJob[], pipelineFile: string, root: string): void {
  const display = relative(root, pipelineFile) || pipelineFile;
  for (const job of jobs) {
    const { spec } = job;
    if (spec.image?.name) check(spec.image.name, spec.variables, display, pipelineFile, `job "${job.name}": image`);
    spec.services.forEach((s, i) => check(s.name, spec.variables, display, pipelineFile, `job "${job.name}": services[${i}]`));
  }
}

/** `--docker-image`: the image of jobs that name none. */
export function checkDefaultImage(name: string | undefined): void {
  if (!name) return;
  try {
    parseImageRef(name);
  } catch (err) {
    if (err instanceof ImageRefError) throw new InputError(`--docker-image: ${err.message}`, { key: '--docker-image' });
    throw err;
  }
}

function check(name: string, vars: readonly JobVariable[], display: string, file: string, where: string): void {
  const defined = new Set(vars.map((v) => v.key));
  const used = [...name.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!);
  if (used.some((k) => !defined.has(k))) return;
  const expanded = expandWith(name, vars).trim();
  if (!expanded) return;
  try {
    parseImageRef(expanded);
  } catch (err) {
    if (!(err instanceof ImageRefError)) throw err;
    const shown = expanded === name.trim() ? '' : ` (from "${name}")`;
    throw new InputError(`${display}: ${where}: ${err.message}${shown}; fix the image name`, { file, key: where.replace(/^job "[^"]*": /, '') });
  }
}
