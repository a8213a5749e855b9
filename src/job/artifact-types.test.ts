import { describe, expect, it } from 'vitest';
import { defaultReportName, formatOfArtifactType } from './artifact-types.js';

// GitLab app/models/concerns/enums/ci/job_artifact.rb: REPORT_TYPES and DEFAULT_FILE_NAMES.
describe('GitLab\'s artifact types', () => {
  it('gives each report its format', () => {
    expect(['archive', 'lsif'].map(formatOfArtifactType)).toEqual(['zip', 'zip']);
    expect(['junit', 'dotenv', 'cobertura', 'jacoco', 'cyclonedx', 'annotations', 'repository_xray', 'metrics'].map(formatOfArtifactType)).toEqual(Array(8).fill('gzip'));
    expect(['sast', 'dast', 'codequality', 'terraform', 'requirements', 'requirements_v2', 'api_fuzzing'].map(formatOfArtifactType)).toEqual(Array(7).fill('raw'));
    expect(formatOfArtifactType('no_such_report')).toBeUndefined();
  });

  it('names a report without `name` as GitLab does', () => {
    expect(defaultReportName('secret_detection')).toBe('gl-secret-detection-report.json');
    expect(defaultReportName('dependency_scanning')).toBe('gl-dependency-scanning-report.json');
    expect(defaultReportName('requirements_v2')).toBe('requirements_v2.json');
    expect(defaultReportName('repository_xray')).toBe('gl-repository-xray.json');
    expect(defaultReportName('archive')).toBe('');
  });
});
