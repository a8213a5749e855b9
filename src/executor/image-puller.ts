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
