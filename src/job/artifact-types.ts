/**
 * GitLab's artifact types as the runner sees them: the archive format and default file name of
 * each `artifacts:reports:<type>` (GitLab app/models/concerns/enums/ci/job_artifact.rb) and how
 * GitLab turns `artifacts:` into the payload's `artifacts[]`
 * (app/presenters/ci/build_runner_presenter.rb). Pure data: used by the `.gitlab-ci.yml`
 * compiler (which plays GitLab's part for `berth exec`) and by the uploader.
 */

export type ArtifactFormat = 'zip' | 'gzip' | 'raw';

const GZIP_REPORTS = ['junit', 'metrics', 'dotenv', 'cobertura', 'jacoco', 'cyclonedx', 'annotations', 'repository_xray'];
const ZIP_REPORTS = ['lsif', 'scip'];
const RAW_REPORTS = [
  'sast', 'secret_detection', 'dependency_scanning', 'container_scanning', 'cluster_image_scanning', 'dast',
  'license_scanning', 'codequality', 'accessibility', 'performance', 'browser_performance', 'load_performance',
  'terraform', 'coverage_fuzzing', 'api_fuzzing', 'sarif', 'requirements', 'requirements_v2',
];

const DEFAULT_NAMES: Record<string, string> = {
  junit: 'junit.xml',
  accessibility: 'gl-accessibility.json',
  codequality: 'gl-code-quality-report.json',
  sast: 'gl-sast-report.json',
  secret_detection: 'gl-secret-detection-report.json',
  dependency_scanning: 'gl-dependency-scanning-report.json',
  container_scanning: 'gl-container-scanning-report.json',
  cluster_image_scanning: 'gl-cluster-image-scanning-report.json',
  dast: 'gl-dast-report.json',
  license_scanning: 'gl-license-scanning-report.json',
  performance: 'performance.json',
  browser_performance: 'browser-performance.json',
  load_performance: 'load-performance.json',
  metrics: 'metrics.txt',
  lsif: 'lsif.json',
  dotenv: '.env',
  cobertura: 'cobertura-coverage.xml',
  jacoco: 'jacoco-coverage.xml',
  terraform: 'tfplan.json',
  requirements: 'requirements.json',
  requirements_v2: 'requirements_v2.json',
  coverage_fuzzing: 'gl-coverage-fuzzing.json',
  api_fuzzing: 'gl-api-fuzzing-report.json',
  cyclonedx: 'gl-sbom.cdx.json',
  annotations: 'gl-annotations.json',
  repository_xray: 'gl-repository-xray.json',
};

/** The report types GitLab knows (`artifacts:reports:<type>`), coverage_report included. */
export const REPORT_TYPES: readonly string[] = [...GZIP_REPORTS, ...ZIP_REPORTS, ...RAW_REPORTS, 'coverage_report'];

/** The format GitLab sends for a type (`archive` is zip); undefined for an unknown type. */
export function formatOfArtifactType(type: string): ArtifactFormat | undefined {
  if (type === 'archive' || type === '' || ZIP_REPORTS.includes(type)) return 'zip';
  if (GZIP_REPORTS.includes(type)) return 'gzip';
  if (RAW_REPORTS.includes(type)) return 'raw';
  return undefined;
}

/** GitLab's default `name` of a report's artifact; '' when it has none. */
export function defaultReportName(type: string): string {
  return DEFAULT_NAMES[type] ?? '';
}

/**
 * The file name the uploader sends (gitlab-runner commands/helpers/artifacts_uploader.go):
 * without a `name` in the payload, `artifacts` (the uploader's default, as no `--name` is
 * passed); else Go's `filepath.Base` of the name as expanded (`""` → `.`; trailing slashes
 * dropped), with `.` or nothing left → `default`; plus `.zip` for zip, `.gz` for gzip, nothing
 * for raw.
 */
export function artifactFilename(name: string | null, format: ArtifactFormat): string {
  let base = name === null ? 'artifacts' : goBase(name);
  if (base === '' || base === '.') base = 'default';
  if (format === 'zip') return `${base}.zip`;
  if (format === 'gzip') return `${base}.gz`;
  return base;
}

/** Go's filepath.Base on Unix. */
function goBase(path: string): string {
  if (path === '') return '.';
  const trimmed = path.replace(/\/+$/, '');
  if (trimmed === '') return '/';
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}
