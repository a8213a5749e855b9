/**
 * `berth exec JOB...`: picks the named jobs (the name of a `parallel:` job picks all of its
 * jobs; `"build: [amd64]"` one of them) (and, with `--needs`, everything they need,
 * transitively), in pipeline order. An unknown name is an InputError naming it, with close
 * matches; a job that rules left out says why.
 */
import { InputError } from '../../shared/errors.js';
import type { Pipeline, PipelineJob } from '../pipeline.js';

export function selectJobs(pipeline: Pipeline, names: string[], withNeeds: boolean): PipelineJob[] {
  const byName = new Map(pipeline.jobs.map((j) => [j.name, j]));
  const wanted = new Set<string>();
  const add = (name: string): void => {
    if (wanted.has(name)) return;
    wanted.add(name);
    if (!withNeeds) return;
    for (const need of byName.get(name)?.needs ?? []) if (byName.has(need.job)) add(need.job);
  };
  for (const name of names) {
    // The name of a parallel job as written selects all of its jobs (`build` → `build 1/2`, `build 2/2`).
    const instances = byName.has(name) ? [] : pipeline.jobs.filter((j) => j.parallel?.job === name);
    if (!byName.has(name) && !instances.length) throw unknownJob(pipeline, name);
    if (instances.length) instances.forEach((j) => add(j.name));
    else add(name);
  }
  return pipeline.jobs.filter((j) => wanted.has(j.name));
}

function unknownJob(pipeline: Pipeline, name: string): InputError {
  const skipped = pipeline.skipped.find((s) => s.name === name || s.parallel?.job === name);
  if (skipped) {
    return new InputError(`job "${name}" is not in this pipeline: ${skipped.reason}. Use --variable to change the variables its rules see`, { key: name });
  }
  const all = [...pipeline.jobs.map((j) => j.name), ...pipeline.skipped.map((s) => s.name)];
  const close = closeMatches(name, all);
  const hint = close.length ? `; did you mean ${close.map((c) => `"${c}"`).join(', ')}?` : '';
  return new InputError(`unknown job "${name}"${hint} (berth exec --list shows the jobs)`, { key: name });
}

/** Names within a small edit distance of `name`, or containing it, best first (at most 3). */
export function closeMatches(name: string, candidates: string[]): string[] {
  const lower = name.toLowerCase();
  const limit = Math.max(2, Math.floor(name.length / 3));
  return candidates
    .map((c) => ({ c, d: c.toLowerCase().includes(lower) || lower.includes(c.toLowerCase()) ? 0.5 : editDistance(lower, c.toLowerCase()) }))
    .filter((x) => x.d <= limit)
    .sort((a, b) => a.d - b.d)
    .slice(0, 3)
    .map((x) => x.c);
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    }
    prev = row;
  }
  return prev[b.length]!;
}
