/**
 * Fetches a job's sources while the rest of prepare runs (pulls, container creation, services):
 * the git fetch on the runner host needs none of them. Its log lines are held back and written
 * into the job log when the get_sources section begins, so the log still reads in order.
 * GET_SOURCES_ATTEMPTS runs a failed fetch again (stage-attempts.ts).
 */
import type { JobSpec } from '../job/job-spec.js';
import { MemoryByteWriter } from '../log/byte-writer.js';
import { JobLog } from '../log/job-log.js';
import type { FetchedSources, SourceProvider } from './source-provider.js';
import { stageAttempts, withStageAttempts } from './stage-attempts.js';

export class SourcesInAdvance {
  private readonly held = new MemoryByteWriter();
  private readonly fetching: Promise<FetchedSources | null>;

  constructor(
    provider: SourceProvider,
    job: JobSpec,
    signal: AbortSignal,
    /** The runner's feature flags (FF_USE_EXPONENTIAL_BACKOFF_STAGE_RETRY for GET_SOURCES_ATTEMPTS' waits). */
    runnerFlags: Readonly<Record<string, boolean>> = {},
  ) {
    const log = new JobLog(this.held, { traceSections: false });
    // GET_SOURCES_ATTEMPTS: a failed fetch is tried again, as gitlab-runner runs get_sources again.
    const { attempts } = stageAttempts(job, 'GET_SOURCES_ATTEMPTS');
    this.fetching = withStageAttempts(attempts, job, runnerFlags, log, signal, () => provider.fetch(job, log, signal)).finally(() => log.end());
    this.fetching.catch(() => undefined);
  }

  /** Writes the held lines into `log`, then returns the sources or throws the fetch's error. */
  async collect(log: JobLog): Promise<FetchedSources | null> {
    try {
      return await this.fetching;
    } finally {
      log.raw(this.held.buffer);
    }
  }

  /** The sources once the fetch has settled, or null when it failed (for cleanup). */
  settled(): Promise<FetchedSources | null> {
    return this.fetching.catch(() => null);
  }
}
