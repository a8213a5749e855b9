import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { testJob } from '../../test/support/job-fixtures.js';
import { plainVariable } from '../job/job-spec.js';
import { MemoryByteWriter } from '../log/byte-writer.js';
import { JobLog } from '../log/job-log.js';
import { jobFilesFactory, projectSlug } from './job-files-factory.js';

const temp = await mkdtemp(join(tmpdir(), 'berth-job-files-factory-'));
afterAll(() => rm(temp, { recursive: true, force: true }));

const withStrategy = (strategy: string | null, projectFullPath = 'group/project') =>
  testJob({
    jobInfo: { name: 'j', stage: 'test', projectId: 42, projectName: 'project', projectFullPath, pipelineId: 7 },
    variables: strategy === null ? [] : [plainVariable('GIT_STRATEGY', strategy)],
  });

describe('projectSlug (gitlab-runner common/build.go ProjectUniqueDir(false))', () => {
  it('is the project path, else project-<id>', () => {
    expect(projectSlug(withStrategy(null))).toBe('group/project');
    expect(projectSlug(withStrategy('clone'))).toBe('group/project');
    expect(projectSlug(withStrategy('none', ''))).toBe('project-42');
  });

  it('adds -empty for GIT_STRATEGY=empty', () => {
    expect(projectSlug(withStrategy('empty'))).toBe('group/project-empty');
    expect(projectSlug(withStrategy('empty', '../x'))).toBe('project-42-empty');
  });

  it('a GIT_STRATEGY=empty job keeps its cache in <cache root>/<project path>-empty/<key>/cache.zip', async () => {
    const transports = jobFilesFactory({ cacheRoot: temp, distributed: null, artifacts: () => ({ upload: async () => undefined, download: async () => { throw new Error('unused'); } }) })(withStrategy('empty'));
    const file = join(temp, 'made.zip');
    await writeFile(file, 'zip');
    const log = new JobLog(new MemoryByteWriter());
    expect(await transports.cache!.save('k', file, log, new AbortController().signal)).toBe(true);
    expect(await readFile(join(temp, 'group', 'project-empty', 'k', 'cache.zip'), 'utf8')).toBe('zip');
  });
});
