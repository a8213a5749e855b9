/**
 * A job that `retry:` runs again is, for GitLab, a new job of the pipeline (Ci::Build#retry
 * clones it): a new id, above every id the pipeline has so far, in CI_JOB_ID and CI_JOB_URL.
 * Variables that name CI_JOB_ID get the new one, as they are expanded when each stage runs.
 */
import type { JobSpec } from '../job/job-spec.js';

export function withJobId(spec: JobSpec, id: number): JobSpec {
  const variables = spec.variables.map((v) => {
    if (v.key === 'CI_JOB_ID') return { ...v, value: String(id) };
    if (v.key === 'CI_JOB_URL') return { ...v, value: v.value.replace(/\/-\/jobs\/\d+$/, `/-/jobs/${id}`) };
    return v;
  });
  return { ...spec, id, variables };
}
