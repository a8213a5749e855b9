/**
 * Where the job-file stages send and get archives. `berth run` uses GitLab (artifacts) and the
 * runner's local or distributed cache; `berth exec` uses stores under the repository's
 * `.berth/` folder. The stages themselves (restore_cache, download_artifacts, archive_cache,
 * upload_artifacts_*) do not know which.
 */
import type { Writable } from 'node:stream';
import type { ArrivingFile } from '../../artifacts/arriving-file.js';
import type { CacheName } from '../../artifacts/cache-key.js';
import type { ArtifactSpec, DependencySpec } from '../../job/job-spec.js';
import type { JobLog } from '../../log/job-log.js';

/** A local file the caller may read until `release()`. */
export interface LocalArchive {
  path: string;
  release(): Promise<void>;
  /**
   * The file is still being downloaded: read it through `arriving.file` (reads wait for the
   * body); `arriving.done` settles with the download (its rejection is the download's failure).
   * `release()` stops a download still running.
   */
  arriving?: { file: ArrivingFile; done: Promise<void> };
  /**
   * The file comes from a store only runners write (a runner's cache folder or bucket), where a
   * gitlab-runner may have saved it as tar+zstd or zip+zstd: only such files are decoded as
   * Zstandard (berth's decoder, fzstd, is not safe on crafted input: a few bytes can keep it busy
   * for minutes). A repository's `.berth/` store and GitLab's artifacts are zip only.
   */
  writtenByRunners?: boolean;
}

export interface ArtifactUpload {
  artifact: ArtifactSpec;
  /** The archive, a local file (zip, gzip or raw as `format` says). */
  file: string;
  /** What GitLab calls the file: `artifacts.zip`, `junit.xml.gz`, `.env.gz`, `gl-sast-report.json`. */
  filename: string;
  /** zip, gzip or raw: the format of `file` (the payload's artifact_format may be empty). */
  format: 'zip' | 'gzip' | 'raw';
  /** `artifacts:name` expanded. */
  name: string;
  /** expire_in expanded ('' = server default). */
  expireIn: string;
}

/**
 * Writes one whole archive into `out` without ending it, and resolves with its size in bytes.
 * A streamed upload calls it once per try: every retry archives again.
 */
export type ArchiveProducer = (out: Writable, signal: AbortSignal) => Promise<{ bytes: number }>;

/** An archive uploaded as it is made: no local file. */
export interface StreamedArtifactUpload extends Omit<ArtifactUpload, 'file'> {
  produce: ArchiveProducer;
}

export interface ArtifactTransport {
  /** Uploads one archive. Throws a BerthError with a message fit for the job log on failure. */
  upload(req: ArtifactUpload, log: JobLog, signal: AbortSignal): Promise<void>;
  /**
   * Optional: uploads an archive while it is made (`berth run`: gitlab-runner streams the zip
   * into its POST). The upload stage uses it for zip archives when the transport has it, else
   * writes a file and calls `upload`. Throws as `upload` does; an error of `produce` itself is
   * thrown as it is, not retried.
   */
  uploadStreamed?(req: StreamedArtifactUpload, log: JobLog, signal: AbortSignal): Promise<void>;
  /** Downloads a dependency's `archive` artifacts (a zip) into a local file. Throws on failure. */
  download(dep: DependencySpec, log: JobLog, signal: AbortSignal): Promise<LocalArchive>;
  /** The zip level when ARTIFACT_COMPRESSION_LEVEL is not set (default: gitlab-runner's, 5). */
  readonly defaultCompressionLevel?: number;
}

/**
 * What a cache's archive step made: an archive to store; `nothing` (no file selected: gitlab-runner's
 * `No files to cache.`, already printed); `unchanged` (no selected file is newer than the archive
 * already stored: gitlab-runner's cache-archiver keeps that one, cache_archiver.go Execute).
 */
export type CacheWriteOutcome = 'store' | 'nothing' | 'unchanged';

export interface CacheTransport {
  /**
   * The cache archive stored under the name (a CacheName from the cache stage, or a plain
   * sanitised key), fetched from the distributed cache when there is one (the alternate object
   * when the primary one is missing or older, as gitlab-runner's cache-extractor), else the local
   * copy; null when there is none (after logging why, in gitlab-runner's words). Never throws for
   * a missing or unreachable cache: it warns.
   */
  restore(name: CacheName | string, log: JobLog, signal: AbortSignal): Promise<LocalArchive | null>;
  /**
   * Stores the zip at `file` as the cache of the name (locally, then in the distributed cache
   * when there is one). Resolves false (after a warning) when it could not be stored.
   */
  save(name: CacheName | string, file: string, log: JobLog, signal: AbortSignal): Promise<boolean>;
  /**
   * Optional: as `save`, but `write` makes the zip straight into a file of the store (no copy of
   * the archive; gitlab-runner's cache-archiver writes its cache.zip in place too). `write` is
   * given the modification time of the archive already stored under the name (null: none), and
   * resolves with what it made (CacheWriteOutcome): only `store` replaces that archive; with
   * `nothing` or `unchanged` the file is dropped and this resolves true. An error of `write` is
   * thrown as it is (after the file is removed).
   */
  saveWritten?(name: CacheName | string, write: (file: string, stored: Date | null) => Promise<CacheWriteOutcome>, log: JobLog, signal: AbortSignal): Promise<boolean>;
  /** The zip level when CACHE_COMPRESSION_LEVEL is not set (default: gitlab-runner's, 5). */
  readonly defaultCompressionLevel?: number;
}
