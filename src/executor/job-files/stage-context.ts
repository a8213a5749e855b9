/**
 * What the cache and artifact stages of one job share: the job, its project directory, the
 * variables its stages see, the transports, a private temporary folder on berth's host for
 * the archives, the log and the job's signal.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { featureFlagOn, type KnownFeatureFlag } from '../../job/feature-flags.js';
import type { JobSpec, JobVariable } from '../../job/job-spec.js';
import { expandWith } from '../../job/variables.js';
import type { JobLog } from '../../log/job-log.js';
import type { ProjectFiles } from '../project-files.js';
import type { ArtifactTransport, CacheTransport } from './transports.js';

/** What a job's cache and artifact stages use (`berth run`: GitLab and the runner cache; `berth exec`: .berth/). */
export interface JobFileTransports {
  artifacts: ArtifactTransport | null;
  cache: CacheTransport | null;
  /** Where temporary archives go (default: the OS temp folder). */
  tempRoot?: string;
}

export class StageContext {
  private temp: string | null = null;
  private counter = 0;

  constructor(
    readonly job: JobSpec,
    readonly files: ProjectFiles,
    readonly variables: readonly JobVariable[],
    readonly transports: JobFileTransports,
    readonly log: JobLog,
    readonly signal: AbortSignal,
    /** The runner's `[[runners]] feature_flags` (config.toml); they win over the job's variables. */
    readonly runnerFeatureFlags: Readonly<Record<string, boolean>> = {},
  ) {}

  /** A feature flag as gitlab-runner's IsFeatureFlagOn reads it (config.toml, then the job's variables). */
  featureFlag(name: KnownFeatureFlag): boolean {
    return featureFlagOn(name, this.runnerFeatureFlags, this.variables);
  }

  expand(text: string): string {
    return expandWith(text, this.variables);
  }

  /** A fresh path in the job's private temporary folder (0700, removed by dispose). */
  async tempFile(name: string): Promise<string> {
    this.temp ??= await mkdtemp(join(this.transports.tempRoot ?? tmpdir(), 'berth-job-files-'));
    this.counter += 1;
    return join(this.temp, `${this.counter}-${name.replace(/[^\w.-]/g, '_')}`);
  }

  async dispose(): Promise<void> {
    if (this.temp) await rm(this.temp, { recursive: true, force: true });
    this.temp = null;
  }
}
