/**
 * GitLabArtifactTransport: the ArtifactTransport of `berth run` (src/executor/job-files/
 * transports.ts): uploads go to GitLab for the running job, dependencies' archives come from
 * GitLab into a temporary file under `tempDir` that `release()` deletes. A zip is streamed into
 * the POST as it is made (uploadStreamed), as gitlab-runner does; reports are sent from files.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { ArrivingFile } from '../artifacts/arriving-file.js';
import type { ArtifactTransport, ArtifactUpload, LocalArchive, StreamedArtifactUpload } from '../executor/job-files/transports.js';
import type { DependencySpec } from '../job/job-spec.js';
import type { JobLog } from '../log/job-log.js';
import type { ArtifactsApi } from './artifacts-api.js';
import type { JobRef } from './job-api.js';
import type { ArtifactUploadTarget } from './artifacts-upload.js';

export interface GitLabArtifactTransportOptions {
  api: ArtifactsApi;
  /** The running job: the runner's GitLab URL, the job id and its token (a secret). */
  job: JobRef;
  /** Where downloaded archives are kept until released (a private folder of the runner). */
  tempDir: string;
  /** FF_USE_DIRECT_DOWNLOAD of the job (default true). */
  directDownload?: boolean;
  /** The period of the transfer meter's lines (the job's TRANSFER_METER_FREQUENCY); 0 or none: off. */
  meterMs?: number;
}

export class GitLabArtifactTransport implements ArtifactTransport {
  constructor(private readonly opts: GitLabArtifactTransportOptions) {}

  upload(req: ArtifactUpload, log: JobLog, signal: AbortSignal): Promise<void> {
    return this.opts.api.upload(this.opts.job, { file: req.file, ...target(req), ...this.meter() }, log, signal);
  }

  uploadStreamed(req: StreamedArtifactUpload, log: JobLog, signal: AbortSignal): Promise<void> {
    return this.opts.api.upload(this.opts.job, { produce: req.produce, ...target(req), ...this.meter() }, log, signal);
  }

  /**
   * Resolves as soon as the archive can be read (its end fetched ahead, see ArrivingFile) or is
   * whole; the rest of the download goes on under `arriving.done`.
   */
  async download(dep: DependencySpec, log: JobLog, signal: AbortSignal): Promise<LocalArchive> {
    const path = join(this.opts.tempDir, `artifacts-${dep.id}-${randomBytes(6).toString('hex')}.zip`);
    const file = new ArrivingFile(path);
    // Stopped by the job's signal, or by release() (an extraction that failed needs the rest no more).
    const stop = new AbortController();
    const onAbort = (): void => stop.abort(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
    const done = this.opts.api.download(this.opts.job.url, dep, path, log, stop.signal, {
      arriving: file,
      ...(this.opts.directDownload === undefined ? {} : { directDownload: this.opts.directDownload }),
      ...this.meter(),
    });
    done.catch(() => undefined).finally(() => signal.removeEventListener('abort', onAbort));
    const release = async (): Promise<void> => {
      stop.abort(new Error('the archive was released'));
      await done.catch(() => undefined);
      await rm(path, { force: true });
    };
    // The download's own failure (not the file's view of it) when it fails before the file is readable.
    await Promise.race([file.ready().catch(() => done), done]);
    return { path, release, arriving: { file, done } };
  }

  private meter(): { meterMs?: number } {
    return this.opts.meterMs ? { meterMs: this.opts.meterMs } : {};
  }
}

/** What GitLab is told of an upload, whether from a file or streamed. */
function target(req: StreamedArtifactUpload | ArtifactUpload): ArtifactUploadTarget {
  return {
    filename: req.filename,
    artifactType: req.artifact.artifactType,
    // The format berth wrote (zip for the zstd formats it does not write); empty stays empty.
    artifactFormat: req.artifact.artifactFormat === '' ? '' : req.format,
    expireIn: req.expireIn,
  };
}
