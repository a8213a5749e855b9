import { describe, expect, it } from 'vitest';
import { testJob } from '../../test/support/job-fixtures.js';
import { plainVariable, type JobSpec } from '../job/job-spec.js';
import { MemoryByteWriter } from '../log/byte-writer.js';
import { JobLog } from '../log/job-log.js';
import { stripAnsi } from '../shared/ansi.js';
import type { FetchedSources, SourceProvider } from './source-provider.js';
import { SourcesInAdvance } from './sources-in-advance.js';

/** Fails `failures` times, then gives sources. */
class FlakySource implements SourceProvider {
  readonly header = 'Getting source from Git repository';
  calls = 0;
  constructor(private failures: number) {}
  async fetch(_job: JobSpec, log: JobLog): Promise<FetchedSources | null> {
    this.calls++;
    log.println(`Fetching changes (try ${this.calls})...`);
    if (this.failures-- > 0) throw new Error('fatal: unable to access the repository: 502');
    return { root: '/nowhere', files: [], description: 'nothing', release: async () => undefined };
  }
}

const collect = async (source: FlakySource, job: JobSpec) => {
  const sink = new MemoryByteWriter();
  const log = new JobLog(sink, { traceSections: false });
  const res = await new SourcesInAdvance(source, job, new AbortController().signal).collect(log).catch((e: unknown) => e);
  return { res, text: stripAnsi(sink.text) };
};

describe('SourcesInAdvance', () => {
  it('GET_SOURCES_ATTEMPTS fetches again after a failure, with "Retrying..." in the held log, as gitlab-runner runs get_sources again', async () => {
    const source = new FlakySource(1);
    const { res, text } = await collect(source, testJob({ variables: [plainVariable('GET_SOURCES_ATTEMPTS', '2'), plainVariable('FF_USE_EXPONENTIAL_BACKOFF_STAGE_RETRY', 'false')] }));
    expect(res).toMatchObject({ description: 'nothing' });
    expect(source.calls).toBe(2);
    expect(text).toMatch(/Fetching changes \(try 1\)\.\.\.\nWARNING: Retrying\.\.\. +error=fatal: unable to access the repository: 502\nFetching changes \(try 2\)/);
  });

  it('without it, one try: the error is the job\'s', async () => {
    const source = new FlakySource(1);
    const { res, text } = await collect(source, testJob({}));
    expect((res as Error).message).toContain('502');
    expect(source.calls).toBe(1);
    expect(text).not.toContain('Retrying');
  });
});
