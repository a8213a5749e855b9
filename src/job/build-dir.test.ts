import { describe, expect, it } from 'vitest';
import { testJob } from '../../test/support/job-fixtures.js';
import { projectDir } from './build-dir.js';
import { plainVariable } from './job-spec.js';

describe('projectDir', () => {
  it('is <builds_dir>/<project path>, with -empty after it for GIT_STRATEGY=empty as gitlab-runner\'s ProjectUniqueDir names it', () => {
    const job = testJob({});
    const base = projectDir(job);
    expect(base).toMatch(/^\/builds\/[^ ]+$/);
    expect(base.endsWith('-empty')).toBe(false);
    expect(projectDir(testJob({ variables: [plainVariable('GIT_STRATEGY', 'empty')] }))).toBe(`${base}-empty`);
    expect(projectDir(testJob({ variables: [plainVariable('GIT_STRATEGY', 'none')] }))).toBe(base);
    expect(projectDir(testJob({ variables: [plainVariable('GIT_STRATEGY', 'empty')] }), '/b')).toBe(`/b${base.slice('/builds'.length)}-empty`);
  });
});
