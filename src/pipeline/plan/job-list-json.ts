/**
 * `berth exec --list --json`: the planned pipeline as a stable document for scripts and editors.
 * Format version 1 (fields are only ever added; a change of meaning bumps `version`):
 *
 *   { version: 1, file, stages: [...],
 *     jobs: [{ name, stage, when, needs, allow_failure, allow_failure_exit_codes, parallel, dependencies, skip_reason }],
 *     warnings: [...] }
 *
 * `jobs` holds the jobs in the pipeline (stage order, then file order; `skip_reason: null`),
 * then the jobs left out of it (`when: null`, `skip_reason` says which clause). `needs`: null
 * without `needs:` (waits for earlier stages), else `[{job, optional}]`. `parallel`: null, or
 * `{job, index, total, matrix}` for a job that `parallel:` made (`matrix` null for `parallel: N`).
 * `dependencies`: the names of the jobs whose artifacts the job receives (GitLab's rules: needs
 * with artifacts, else earlier stages, filtered by `dependencies:`); null for a job not in the pipeline.
 */
import { relative } from 'node:path';
import type { ParallelOrigin, Pipeline, PipelineJob, PipelineJobWhen } from '../pipeline.js';

export const JOB_LIST_JSON_VERSION = 1;

export interface JobListJsonJob {
  name: string;
  /** null only for a skipped job whose stage is not known. */
  stage: string | null;
  /** null for a job that is not in the pipeline. */
  when: PipelineJobWhen | null;
  needs: { job: string; optional: boolean }[] | null;
  allow_failure: boolean | null;
  allow_failure_exit_codes: number[];
  parallel: ParallelOrigin | null;
  /** Jobs whose artifacts this job receives, in pipeline order; null for a job not in the pipeline. */
  dependencies: string[] | null;
  skip_reason: string | null;
}

export interface JobListJson {
  version: number;
  /** The pipeline file, relative to the project root. */
  file: string;
  stages: string[];
  jobs: JobListJsonJob[];
  warnings: string[];
}

export function jobListJson(pipeline: Pipeline): JobListJson {
  const stageIndex = (j: PipelineJob): number => pipeline.stages.indexOf(j.stage);
  const planned = pipeline.jobs.map((j, i) => ({ j, i })).sort((a, b) => stageIndex(a.j) - stageIndex(b.j) || a.i - b.i);
  return {
    version: JOB_LIST_JSON_VERSION,
    file: relative(pipeline.root, pipeline.file).split('\\').join('/'),
    stages: pipeline.stages,
    jobs: [
      ...planned.map(({ j }) => ({
        name: j.name,
        stage: j.stage,
        when: j.when,
        needs: j.needs ? j.needs.map((n) => ({ job: n.job, optional: n.optional })) : null,
        allow_failure: j.allowFailure,
        allow_failure_exit_codes: j.allowFailureExitCodes,
        parallel: j.parallel,
        dependencies: j.spec.dependencies.map((d) => d.name),
        skip_reason: null,
      })),
      ...pipeline.skipped.map((s) => ({
        name: s.name,
        stage: s.stage ?? null,
        when: null,
        needs: null,
        allow_failure: null,
        allow_failure_exit_codes: [],
        parallel: s.parallel ?? null,
        dependencies: null,
        skip_reason: s.reason,
      })),
    ],
    warnings: pipeline.warnings,
  };
}
