import { describe, expect, it } from 'vitest';
import { testJob } from '../../test/support/job-fixtures.js';
import { plainVariable } from '../job/job-spec.js';
import { MemoryByteWriter } from '../log/byte-writer.js';
import { JobLog } from '../log/job-log.js';
import { stripAnsi } from '../shared/ansi.js';
import { LocalTreeSource } from './source-provider.js';

async function fetchLocal(strategy?: string) {
  const variables = strategy === undefined ? [] : [plainVariable('GIT_STRATEGY', strategy)];
  const job = testJob({ sources: { kind: 'local-tree', root: '/repo', files: ['a.txt', 'src/b.ts'] }, variables });
  const sink = new MemoryByteWriter();
  const log = new JobLog(sink);
  const fetched = await new LocalTreeSource().fetch(job, log);
  log.end();
  return { fetched, text: stripAnsi(sink.text) };
}

describe('LocalTreeSource (berth exec)', () => {
  it('hands out the working tree files', async () => {
    const { fetched } = await fetchLocal();
    expect(fetched?.files).toEqual(['a.txt', 'src/b.ts']);
    expect(fetched?.description).toBe('Copying 2 files from the working tree /repo');
  });

  it.each(['none', 'empty'])('copies nothing with GIT_STRATEGY=%s, as gitlab-runner', async (strategy) => {
    const { fetched, text } = await fetchLocal(strategy);
    expect(fetched).toBeNull();
    expect(text).toContain('Skipping Git repository setup');
  });
});
