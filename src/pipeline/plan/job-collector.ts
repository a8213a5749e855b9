/**
 * Finds the jobs of a resolved configuration: every top-level map that is not a global
 * keyword and whose name does not start with '.' (hidden jobs are templates). Applies
 * default: and inherit, parses each job and checks its stage. Trigger and CI-steps (`run`)
 * jobs cannot run locally: they are listed as skipped, and so is a job without `script`
 * when includes were skipped (it only overrides a job of such an include).
 */
import { applyDefaults, parseInherit } from '../keywords/defaults.js';
import { GLOBAL_KEYWORDS } from '../keywords/job-keywords.js';
import { parseJob, type JobConfig } from '../keywords/job-config.js';
import { parseParallel, type ParallelConfig } from '../keywords/parallel-config.js';
import type { ParallelOrigin } from '../pipeline.js';
import type { SkippedIncludes } from '../load/skipped-includes.js';
import { checkJobStage } from '../keywords/stages.js';
import { configError, locationPrefix, type SourcePositions } from '../load/source-positions.js';
import { describeType, isMap, type YamlMap } from '../load/yaml-value.js';
import { checkJobShape } from '../keywords/ignored-keys.js';

export interface CollectedJobs {
  /** Runnable jobs, in file order. */
  jobs: JobConfig[];
  /** The stage of every visible job, runnable or not. */
  stageOf: Map<string, string>;
  /** Jobs that cannot run locally (with their `parallel:`, which still makes several jobs). */
  skipped: { name: string; reason: string; parallelConfig?: ParallelConfig | null; parallel?: ParallelOrigin | null }[];
}

export function collectJobs(
  config: YamlMap,
  stages: string[],
  defaults: YamlMap,
  positions: SourcePositions,
  warn: (m: string) => void,
  skippedIncludes?: SkippedIncludes,
): CollectedJobs {
  const out: CollectedJobs = { jobs: [], stageOf: new Map(), skipped: [] };
  for (const [name, value] of Object.entries(config)) {
    if ((GLOBAL_KEYWORDS as readonly string[]).includes(name) || name.startsWith('.')) continue;
    const where = positions.key(config, name);
    if (!isMap(value)) {
      throw configError(where, `job "${name}" must be a map of job keywords, not ${describeType(value)} (hide templates with a leading dot: ".${name}")`);
    }
    checkJobShape(name, value, where, positions);
    const kind = value.trigger !== undefined ? 'trigger (downstream pipelines)' : value.script === undefined && value.run !== undefined ? 'run (CI/CD steps)' : null;
    const partial = !kind && value.script === undefined && skippedIncludes?.any;
    if (kind || partial) {
      const stage = typeof value.stage === 'string' ? value.stage : 'test';
      out.stageOf.set(name, stage);
      const reason = kind
        ? `${kind} is not supported by berth exec; the job is skipped`
        : `it has no script here (${skippedIncludes!.hint()}); the job is skipped`;
      out.skipped.push({ name, reason, parallelConfig: parseParallel(value.parallel, `job "${name}"`, positions, positions.key(value, 'parallel')) });
      warn(`${locationPrefix(where)}job "${name}": ${reason}`);
      continue;
    }
    const inherit = parseInherit(value.inherit, `job "${name}"`, positions, positions.key(value, 'inherit'));
    const job = parseJob(name, applyDefaults(value, defaults, inherit, positions), where, positions, warn);
    checkJobStage(job, stages);
    out.stageOf.set(name, job.stage);
    out.jobs.push(job);
  }
  return out;
}
