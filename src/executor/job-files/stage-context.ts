/**
 * What the cache and artifact stages of one job share: the job, its project directory, the
 * variables its stages see, the transports, a private temporary folder on berth's host for
 * the archives, the log and the job's signal.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { featureFlagOn } from '../../job/feature-flags.js';
import { projectTempDir } from '../../job/build-dir.js';
import type { JobSpec, JobVariable } from '../../job/job-spec.js';
import { expandWith, lastByKey } from '../../job/variables.js';
import type { JobLog } from '../../log/job-log.js';
import { errorMessage } from '../../shared/errors.js';
import { shellExpand } from '../../shared/shell-expand.js';
import { BERTH_VERSION } from '../../shared/version.js';
import type { ProjectFiles } from '../project-files.js';
import type { ArtifactTransport, CacheTransport } from './transports.js';

/**
 * What the artifacts statement (RUNNER_GENERATE_ARTIFACTS_METADATA) says about who ran the job
 * and when: gitlab-runner takes them from its Build (shells/abstract.go generateArtifactsMetadataArgs).
 */
export interface JobRunFacts {
  /** `[[runners]] name` (`berth exec`: "berth-exec"). */
  runnerName: string;
  /** The runner's id at GitLab (config.toml `id`; `berth exec`: 0), when the job has no CI_RUNNER_ID. */
  runnerId: number;
  /** berth's version, as `info.version` tells GitLab. */
  version: string;
  /** When runJob took the job (gitlab-runner's Build.StartedAt: when it made the Build). */
  startedAt: Date;
}

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
  private byKey: Map<string, JobVariable> | null = null;

  constructor(
    readonly job: JobSpec,
    readonly files: ProjectFiles,
    readonly variables: readonly JobVariable[],
    readonly transports: JobFileTransports,
    readonly log: JobLog,
    readonly signal: AbortSignal,
    /** The runner's `[[runners]] feature_flags` (config.toml); they win over the job's variables. */
    readonly runnerFeatureFlags: Readonly<Record<string, boolean>> = {},
    /** Who runs the job and since when (runJob gives them; without: an unnamed runner, from now). */
    readonly run: JobRunFacts = { runnerName: '', runnerId: 0, version: BERTH_VERSION, startedAt: new Date() },
  ) {}

  /** A feature flag as gitlab-runner's IsFeatureFlagOn reads it (config.toml, then the job's variables). */
  featureFlag(name: string, defaultValue = false): boolean {
    return featureFlagOn(name, defaultValue, this.runnerFeatureFlags, this.variables);
  }

  expand(text: string): string {
    return expandWith(text, this.variables);
  }

  /**
   * An artifact path, exclude or name, or a cache path, expanded as gitlab-runner's helper does
   * (normalizeArgs in commands/helpers/artifacts_uploader.go and cache_archiver.go: mvdan.cc/sh
   * shell.Expand over the job's variables, see shellExpand). On an error (a syntax error, `$(cmd)`,
   * `${VAR:?msg}`...) the helper warns and keeps the text as written; so does this.
   */
  expandLikeHelper(text: string, field: 'artifacts:paths' | 'artifacts:exclude' | 'artifacts:name' | 'cache:paths'): string {
    this.byKey ??= lastByKey(this.variables);
    const byKey = this.byKey;
    // The helper's environment holds a file variable as the path of its file (CI_PROJECT_DIR.tmp/KEY), never its content.
    const fileDir = projectTempDir(this.files.projectDir);
    const lookup = (k: string): string | undefined => {
      const v = byKey.get(k);
      return v?.file ? `${fileDir}/${k}` : v?.value;
    };
    try {
      return shellExpand(text, lookup);
    } catch (err) {
      this.log.warning(`invalid ${field} value ${JSON.stringify(text)}: ${errorMessage(err)} (used as written, as gitlab-runner does)`);
      return text;
    }
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
