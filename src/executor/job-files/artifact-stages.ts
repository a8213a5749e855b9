/**
 * The `download_artifacts` and `upload_artifacts_on_success` / `_on_failure` stages, as
 * gitlab-runner writes them (shells/abstract.go: downloadAllArtifacts, writeUploadArtifacts;
 * commands/helpers/artifacts_*.go). A failed download or upload fails the job (script_failure,
 * as gitlab-runner's helper exiting 1); "no files to upload" does not. With
 * RUNNER_GENERATE_ARTIFACTS_METADATA a zip also gets the artifacts statement (artifacts-metadata.ts).
 */
import { selectFiles, type Selection, type SelectionRules } from '../../artifacts/file-selector.js';
import { compressionLevel } from '../../artifacts/compression-level.js';
import { ArchiveStreamWriter } from '../../artifacts/archive-stream-writer.js';
import { peekEntries } from '../../artifacts/peek-entries.js';
import { writeGzipMembers } from '../../artifacts/write-gzip-members.js';
import { writeRaw } from '../../artifacts/write-raw.js';
import { writeZip, writeZipTo } from '../../artifacts/write-zip.js';
import { artifactFilename, type ArtifactFormat } from '../../job/artifact-types.js';
import { JobFailure } from '../../job/job-result.js';
import type { ArtifactSpec, DependencySpec } from '../../job/job-spec.js';
import { variableValue } from '../../job/variables.js';
import { MemoryByteWriter } from '../../log/byte-writer.js';
import { JobLog } from '../../log/job-log.js';
import { errorMessage, helperFatalOf } from '../../shared/errors.js';
import { artifactsMetadataFor, type ArtifactsMetadata } from './artifacts-metadata.js';
import { whenMatches } from './cache-stages.js';
import { extractArchive } from './extract-archive.js';
import type { StageContext } from './stage-context.js';
import type { ArchiveProducer, ArtifactTransport } from './transports.js';

export function dependenciesToDownload(deps: readonly DependencySpec[]): DependencySpec[] {
  return deps.filter((d) => d.artifactsFile !== null && d.artifactsFile.filename !== '');
}

/** Entries whose `when` matches the outcome and that name something (gitlab-runner skips empty ones). */
export function artifactsToUpload(artifacts: readonly ArtifactSpec[], jobSucceeded: boolean): ArtifactSpec[] {
  return artifacts.filter((a) => whenMatches(a.when, jobSucceeded) && (a.paths.length > 0 || a.exclude.length > 0 || a.untracked));
}

export async function downloadArtifacts(ctx: StageContext): Promise<void> {
  const transport = ctx.transports.artifacts;
  if (!transport) return;
  for (const dep of dependenciesToDownload(ctx.job.dependencies)) {
    ctx.log.info(`Downloading artifacts for ${dep.name} (${dep.id})...`);
    try {
      const archive = await transport.download(dep, ctx.log, ctx.signal);
      try {
        await extractArchive(archive, ctx.files, { signal: ctx.signal });
      } finally {
        await archive.release();
      }
    } catch (err) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      ctx.log.error(errorMessage(err));
      const fatal = helperFatalOf(err);
      if (fatal) ctx.log.fatal(fatal);
      // gitlab-runner's artifacts-downloader exits 1: GitLab gets exit_code 1 (allow_failure:exit_codes sees it).
      throw new JobFailure('script_failure', `downloading the artifacts of ${dep.name} (${dep.id}) failed: ${errorMessage(err)}`, { cause: err, exitCode: 1 });
    }
  }
}

export async function uploadArtifacts(ctx: StageContext, jobSucceeded: boolean): Promise<void> {
  const transport = ctx.transports.artifacts;
  if (!transport) return;
  // The artifacts statement's end time: gitlab-runner writes time.Now() into the stage's script.
  const stageStarted = new Date();
  for (const artifact of artifactsToUpload(ctx.job.artifacts, jobSucceeded)) {
    ctx.log.info('Uploading artifacts...');
    const type = artifact.artifactType || 'archive';
    try {
      const format = archiveFormat(artifact);
      // gitlab-runner's helper expands these three with mvdan's shell.Expand (normalizeArgs).
      const name = artifact.name ? ctx.expandLikeHelper(artifact.name, 'artifacts:name') : '';
      const filename = artifactFilename(artifact.name ? name : null, format);
      const rules: SelectionRules = {
        paths: artifact.paths.map((p) => ctx.expandLikeHelper(p, 'artifacts:paths')),
        exclude: artifact.exclude.map((p) => ctx.expandLikeHelper(p, 'artifacts:exclude')),
        untracked: artifact.untracked,
      };
      // RUNNER_GENERATE_ARTIFACTS_METADATA (zip only): <name>-metadata.json, `artifacts` the uploader's default name.
      const metadata = artifactsMetadataFor(ctx, { format, name: artifact.name ? name : 'artifacts', exclude: rules.exclude, endedAt: stageStarted });
      // Only gitlab-runner's zip archiver warns about .git members.
      const select = (log: JobLog): Selection =>
        selectFiles(ctx.files, rules, { projectDir: ctx.files.projectDir, log, signal: ctx.signal, warnGitDirectory: format === 'zip' });
      // As written: gitlab-runner passes --expire-in unexpanded (its uploader expands only name, paths and exclude).
      const expireIn = artifact.expireIn;
      const uploadStreamed = transport.uploadStreamed?.bind(transport);
      if (format === 'zip' && uploadStreamed) {
        await uploadStreamedZip(ctx, uploadStreamed, select, metadata, { artifact, filename, format, name, expireIn });
        continue;
      }
      const selection = select(ctx.log);
      const file = await ctx.tempFile(filename || 'artifacts');
      if (format === 'zip') {
        const level = compressionLevel(variableValue(ctx.variables, 'ARTIFACT_COMPRESSION_LEVEL'), (m) => ctx.log.warning(m), transport.defaultCompressionLevel);
        await writeZip(metadata ? metadata.wrap(selection.entries, ctx.log) : selection.entries, file, { level, signal: ctx.signal });
      } else if (format === 'gzip') {
        await writeGzipMembers(selection.entries, file, ctx.signal);
      } else {
        await writeRaw(selection.entries, file, ctx.signal);
      }
      // gitlab-runner adds the statement to its file list: with it, the list is never empty.
      if (selection.count() === 0 && !metadata?.archived) {
        ctx.log.error('No files to upload');
        continue;
      }
      await transport.upload({ artifact, file, filename, format, name, expireIn }, ctx.log, ctx.signal);
    } catch (err) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      if (err instanceof JobFailure) throw err;
      ctx.log.error(errorMessage(err));
      const fatal = helperFatalOf(err);
      if (fatal) ctx.log.fatal(fatal);
      // As the downloader: the uploader exits 1.
      throw new JobFailure('script_failure', `uploading the ${type} artifacts failed: ${errorMessage(err)}`, { cause: err, exitCode: 1 });
    }
  }
}

/**
 * A zip streamed into the upload (no file on berth's disk), as gitlab-runner's artifacts uploader
 * does: the files are selected once (their log lines printed once; "No files to upload" known
 * before the request goes out) and zipped into the request; a retry selects and zips them again
 * (network/gitlab.go createArtifactsContentProvider re-archives), its log lines not repeated.
 */
async function uploadStreamedZip(
  ctx: StageContext,
  uploadStreamed: NonNullable<ArtifactTransport['uploadStreamed']>,
  select: (log: JobLog) => Selection,
  metadata: ArtifactsMetadata | null,
  req: { artifact: ArtifactSpec; filename: string; format: 'zip'; name: string; expireIn: string },
): Promise<void> {
  const level = compressionLevel(variableValue(ctx.variables, 'ARTIFACT_COMPRESSION_LEVEL'), (m) => ctx.log.warning(m));
  const selection = select(ctx.log);
  const first = await peekEntries(selection.entries);
  try {
    if (first.empty && selection.count() === 0 && !metadata?.archived) {
      ctx.log.error('No files to upload');
      return;
    }
    let tries = 0;
    const produce: ArchiveProducer = async (out, signal) => {
      tries += 1;
      // A retry's lines (the selection's, the statement's) are not printed again.
      const log = tries === 1 ? ctx.log : new JobLog(new MemoryByteWriter(), { traceSections: false });
      const selected = tries === 1 ? first.entries : select(log).entries;
      const entries = metadata ? metadata.wrap(selected, log) : selected;
      const stats = await writeZipTo(entries, new ArchiveStreamWriter(out, `${req.filename} (streamed into the upload)`, signal), { level, signal });
      return { bytes: stats.bytes };
    };
    await uploadStreamed({ ...req, produce }, ctx.log, ctx.signal);
  } finally {
    await first.close();
  }
}

/** zip (and the empty format), gzip or raw; the zstd formats are not written by berth: zip instead. */
function archiveFormat(artifact: ArtifactSpec): ArtifactFormat {
  const f = artifact.artifactFormat;
  if (f === 'gzip' || f === 'raw') return f;
  return 'zip';
}
