/**
 * The cache and artifact transports of one `berth run` job: artifacts go to GitLab (the job's
 * own token), the cache to the runner's local cache folder on berth's host
 * (`<config dir>/cache/<runner>/<project path>`, as gitlab-runner's `<cache_dir>/<project slug>`)
 * and, with `[runners.cache]` S3, to the distributed cache shared with other runners.
 */
import { join } from 'node:path';
import type { DistributedCacheStore } from '../cache/distributed-cache-store.js';
import { createCacheTransport } from '../cache/create-cache-transport.js';
import type { JobFileTransports } from '../executor/job-files/stage-context.js';
import type { ArtifactTransport } from '../executor/job-files/transports.js';
import type { JobSpec } from '../job/job-spec.js';
import { projectDirSuffix } from '../job/build-dir.js';
import { cacheRequestTimeout } from '../job/cache-request-timeout.js';
import { transferMeterFrequency } from '../job/transfer-meter-frequency.js';

export interface JobFilesFactoryOptions {
  /** The runner's local cache root (`<config dir>/cache/<short token>`). */
  cacheRoot: string;
  distributed: DistributedCacheStore | null;
  artifacts: (job: JobSpec) => ArtifactTransport;
  /** Where archives are built and downloads land (default: the OS temp folder). */
  tempRoot?: string;
}

export function jobFilesFactory(opts: JobFilesFactoryOptions): (job: JobSpec) => JobFileTransports {
  return (job) => ({
    artifacts: opts.artifacts(job),
    cache: createCacheTransport({
      cacheDir: join(opts.cacheRoot, projectSlug(job)),
      distributed: opts.distributed,
      projectId: job.jobInfo.projectId,
      timeoutSeconds: job.timeoutSeconds,
      requestTimeoutMs: cacheRequestTimeout(job.variables).ms,
      meterMs: transferMeterFrequency(job.variables).ms,
    }),
    ...(opts.tempRoot ? { tempRoot: opts.tempRoot } : {}),
  });
}

/**
 * gitlab-runner's ProjectUniqueDir(false) (common/build.go), which names the project's cache
 * folder: its ProjectSlug, the project path (`group/project`), else `project-<id>`; with
 * `-empty` after it for GIT_STRATEGY=empty, so a job that starts from an empty folder has a
 * cache of its own.
 */
export function projectSlug(job: JobSpec): string {
  const path = job.jobInfo.projectFullPath;
  const safe = path !== '' && path.split('/').every((part) => part !== '' && part !== '.' && part !== '..' && !part.includes('\0'));
  const slug = safe ? path : `project-${job.jobInfo.projectId}`;
  return slug + projectDirSuffix(job);
}
