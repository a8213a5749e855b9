/**
 * The payload's `artifacts[]` GitLab builds from a job's `artifacts:`
 * (app/presenters/ci/build_runner_presenter.rb): one `archive` entry (zip) when `paths` is
 * written (even empty) or `untracked` is true, then one entry per report, in the order written:
 * type, format and default name from GitLab's table (app/models/concerns/enums/ci/job_artifact.rb),
 * the report's paths, `when: always`, and the archive's `expire_in`.
 */
import { defaultReportName, formatOfArtifactType } from '../../job/artifact-types.js';
import type { ArtifactSpec } from '../../job/job-spec.js';
import type { ArtifactsConfig } from '../keywords/artifacts-config.js';

export function artifactSpecs(config: ArtifactsConfig | null): ArtifactSpec[] {
  if (!config) return [];
  const out: ArtifactSpec[] = [];
  const expireIn = config.expireIn ?? '';
  if (config.untracked === true || config.paths !== null) {
    out.push({
      name: config.name ?? '',
      untracked: config.untracked ?? false,
      paths: config.paths ?? [],
      exclude: config.exclude,
      when: config.when ?? 'on_success',
      artifactType: 'archive',
      artifactFormat: 'zip',
      expireIn,
    });
  }
  for (const report of config.reports) {
    out.push({
      name: defaultReportName(report.type),
      untracked: false,
      paths: report.paths,
      exclude: [],
      when: 'always',
      artifactType: report.type,
      artifactFormat: formatOfArtifactType(report.type) ?? '',
      expireIn,
    });
  }
  return out;
}
