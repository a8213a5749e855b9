/**
 * ImagePuller: makes a job's images available on the engine, honouring pull policies,
 * allow-lists and registry credentials. The Docker executor depends on this interface only.
 */
import type { ImageInfo } from '../engine/engine-client.js';
import type { ImageSpec, JobSpec } from '../job/job-spec.js';
import type { JobLog } from '../log/job-log.js';

export type ImageRole = { kind: 'build' } | { kind: 'service'; index: number; fromConfig: boolean };

export interface PullRequest {
  /** The image, its name already variable-expanded. */
  image: ImageSpec;
  role: ImageRole;
  /** The job: variables (DOCKER_AUTH_CONFIG) and payload credentials. */
  job: JobSpec;
  log: JobLog;
  signal: AbortSignal;
  /**
   * A pull ahead of the job's turn (berth exec's prewarm): one try per policy, no retry of a
   * transient failure. The job's own prepare, at its turn, retries as usual: a prewarm that
   * waited out the retries first would make a failing pull's job take twice as long.
   */
  ahead?: boolean;
}

export interface PulledImage {
  /** What to create containers from: the pinned digest reference or the image ID, never a tag. */
  ref: string;
  id: string;
  info: ImageInfo;
}

export interface ImagePuller {
  /** Refuses what the allow-lists forbid; called for every image before any pull. Throws JobFailure. */
  check(req: PullRequest): void;
  /** Throws JobFailure (image_pull_failure, runner_configuration_error, ...). */
  pull(req: PullRequest): Promise<PulledImage>;
}
