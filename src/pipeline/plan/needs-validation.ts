/**
 * Checks of `needs`, as GitLab makes them. On the whole file: a needed job must exist
 * (unless the need is optional) and be in the same or an earlier stage, and needs must not
 * form a cycle. On the pipeline (after rules): a needed job left out by rules/only/except is
 * an error unless optional (an optional one is dropped).
 */
import type { SkippedIncludes } from '../load/skipped-includes.js';
import { configError, locationPrefix } from '../load/source-positions.js';
import type { JobConfig } from '../keywords/job-config.js';
import type { NeedConfig } from '../keywords/needs-config.js';

/** GitLab's default `ci_needs_size_limit`. */
export const MAX_NEEDS = 50;

/**
 * Returns the needed jobs that are not defined, when includes were skipped (they may be
 * defined there): such needs are then dropped with a warning instead of failing.
 */
export function checkNeedsDefined(
  jobs: readonly JobConfig[],
  stageOf: Map<string, string>,
  stages: string[],
  skippedIncludes?: SkippedIncludes,
  warn: (m: string) => void = () => {},
): Set<string> {
  const forgiven = new Set<string>();
  for (const job of jobs) {
    const lists = [job.needs ?? [], ...(job.rules ?? []).map((r) => r.needs ?? [])];
    for (const need of lists.flat()) {
      const stage = stageOf.get(need.job);
      if (stage === undefined) {
        if (need.optional) continue;
        if (skippedIncludes?.any) {
          warn(`${locationPrefix(need.where)}job "${job.name}": needs "${need.job}", which is not defined here (${skippedIncludes.hint()}); the need is ignored`);
          forgiven.add(need.job);
          continue;
        }
        throw configError(need.where, `job "${job.name}": needs "${need.job}", which is not a job of this configuration${closeName(need.job, stageOf)}`, 'needs');
      }
      if (stages.indexOf(stage) > stages.indexOf(job.stage)) {
        throw configError(need.where, `job "${job.name}": needs "${need.job}", which is in a later stage ("${stage}" comes after "${job.stage}")`, 'needs');
      }
    }
  }
  return forgiven;
}

/**
 * The needs of an included job as the pipeline has them: needs on jobs that are not in the
 * pipeline are dropped when optional (or when the job cannot run locally, or is `forgiven`:
 * undefined but maybe in a skipped include), else an error.
 */
export function resolvePipelineNeeds(
  job: string,
  needs: NeedConfig[] | null,
  included: ReadonlySet<string>,
  notRunnable: ReadonlySet<string>,
  warn: (message: string) => void,
  forgiven: ReadonlySet<string> = new Set(),
): { job: string; optional: boolean }[] | null {
  if (needs === null) return null;
  // GitLab counts the needs of the job as created (parallel instances expanded, optional ones
  // included) against the instance's ci_needs_size_limit, 50 by default (Ci::Pipeline seed).
  if (needs.length > MAX_NEEDS) {
    throw configError(
      needs[0]!.where,
      `job "${job}": one job can only need ${MAX_NEEDS} others, but it lists ${needs.length} (GitLab's default limit); ` +
        'need fewer jobs, e.g. by leaving out the ones its other needs already wait for',
      'needs',
    );
  }
  const out: { job: string; optional: boolean }[] = [];
  for (const need of needs) {
    if (included.has(need.job)) {
      out.push({ job: need.job, optional: need.optional });
    } else if (forgiven.has(need.job)) {
      continue;
    } else if (notRunnable.has(need.job)) {
      warn(`job "${job}": needs "${need.job}", which berth exec skips; the need is ignored`);
    } else if (!need.optional) {
      throw configError(
        need.where,
        `job "${job}": needs "${need.job}", but "${need.job}" is not in this pipeline (its rules, only or except left it out); ` +
          `use needs: [{job: "${need.job}", optional: true}] if it does not always run`,
        'needs',
      );
    }
  }
  return out;
}

/** Throws when the needs (as resolved for the pipeline) form a cycle. */
export function checkNeedsAcyclic(needsOf: Map<string, string[]>, whereOf: (name: string) => Parameters<typeof configError>[0]): void {
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, path: string[]): void => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') {
      const cycle = [...path.slice(path.indexOf(name)), name];
      throw configError(whereOf(cycle[0]!), `needs form a cycle: ${cycle.join(' → ')}`, 'needs');
    }
    state.set(name, 'visiting');
    for (const next of needsOf.get(name) ?? []) visit(next, [...path, name]);
    state.set(name, 'done');
  };
  for (const name of needsOf.keys()) visit(name, []);
}

function closeName(name: string, jobs: Map<string, string>): string {
  const lower = name.toLowerCase();
  const match = [...jobs.keys()].find((j) => j.toLowerCase() === lower || j.replace(/[-_ :]/g, '') === name.replace(/[-_ :]/g, ''));
  return match ? ` (did you mean "${match}"?)` : '';
}
