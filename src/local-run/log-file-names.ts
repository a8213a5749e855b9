/**
 * File names for the job logs under `.berth/logs/`: a job name that is already a clean file name
 * is kept (`build` → `build.log`); any other is cleaned and gets a short hash of the real name
 * (`test:web` → `test_web-1a2b3c4d.log`), so `a b`, `a_b` and `a/b` never share a file. Names are
 * unique also without regard to case (case-insensitive file systems) and stay short.
 */
import { createHash } from 'node:crypto';

const MAX_STEM = 100;

/** Job name → file name (with `.log`), for every given name. */
export function logFileNames(jobNames: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  const taken = new Set<string>();
  const take = (job: string, stem: string): void => {
    out.set(job, `${stem}.log`);
    taken.add(stem.toLowerCase());
  };
  const unique = [...new Set(jobNames)];
  for (const job of unique) {
    if (isClean(job) && !taken.has(job.toLowerCase())) take(job, job);
  }
  for (const job of unique) {
    if (out.has(job)) continue;
    const base = `${job.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, MAX_STEM)}-${createHash('sha256').update(job).digest('hex').slice(0, 8)}`;
    let stem = base;
    for (let n = 2; taken.has(stem.toLowerCase()); n++) stem = `${base}-${n}`;
    take(job, stem);
  }
  return out;
}

function isClean(name: string): boolean {
  return /^[A-Za-z0-9._-]+$/.test(name) && name.length <= MAX_STEM && !/^\.+$/.test(name);
}
