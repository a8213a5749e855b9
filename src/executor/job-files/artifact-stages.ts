/**
 * The `download_artifacts` and `upload_artifacts_on_success` / `_on_failure` stages, as
 * gitlab-runner writes them (shells/abstract.go: downloadAllArtifacts, writeUploadArtifacts;
 * commands/helpers/artifacts_*.go). A failed download or upload fails the job (script_failure,
 * as gitlab-runner's helper exiting 1); "no files to upload" does not.
 */
import { selectFiles, type Selection, type SelectionRules } from '../../artifacts/file-selector.js';
import { compressionLevel } from '../../artifacts/compression-level.js';
import { parseGoBool } from '../../shared/go-bool.js';
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
  for (const artifact of artifactsToUpload(ctx.job.artifacts, jobSucceeded)) {
    ctx.log.info('Uploading artifacts...');
    const type = artifact.artifactType || 'archive';
    try {
      const format = archiveFormat(artifact);
      if (format === 'zip' && parseGoBool(variableValue(ctx.variables, 'RUNNER_GENERATE_ARTIFACTS_METADATA')) === true) {
        // gitlab-runner adds <name>-metadata.json, an in-toto statement with an SLSA v1 predicate.
        ctx.log.warning('RUNNER_GENERATE_ARTIFACTS_METADATA: berth does not generate artifacts metadata (SLSA provenance) yet; the archive is uploaded without it');
      }
      // gitlab-runner's helper expands these three with mvdan's shell.Expand (normalizeArgs).
      const name = artifact.name ? ctx.expandLikeHelper(artifact.name, 'artifacts:name') : '';
      const filename = artifactFilename(artifact.name ? name : null, format);
      const rules: SelectionRules = {
        paths: artifact.paths.map((p) => ctx.expandLikeHelper(p, 'artifacts:paths')),
        exclude: artifact.exclude.map((p) => ctx.expandLikeHelper(p, 'artifacts:exclude')),
        untracked: artifact.untracked,
      };
      // Only gitlab-runner's zip archiver warns about .git members.
      const select = (log: JobLog): Selection =>
        selectFiles(ctx.files, rules, { projectDir: ctx.files.projectDir, log, signal: ctx.signal, warnGitDirectory: format === 'zip' });
      // As written: gitlab-runner passes --expire-in unexpanded (its uploader expands only name, paths and exclude).
      const expireIn = artifact.expireIn;
      const uploadStreamed = transport.uploadStreamed?.bind(transport);
      if (format === 'zip' && uploadStreamed) {
        await uploadStreamedZip(ctx, uploadStreamed, select, { artifact, filename, format, name, expireIn });
        continue;
      }
      const selection = select(ctx.log);
      const file = await ctx.tempFile(filename || 'artifacts');
      if (format === 'zip') {
        const level = compressionLevel(variableValue(ctx.variables, 'ARTIFACT_COMPRESSION_LEVEL'), (m) => ctx.log.warning(m), transport.defaultCompressionLevel);
        await writeZip(selection.entries, file, { level, signal: ctx.signal });
      } else if (format === 'gzip') {
        await writeGzipMembers(selection.entries, file, ctx.signal);
      } else {
        await writeRaw(selection.entries, file, ctx.signal);
      }
      if (selection.count() === 0) {
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
  req: { artifact: ArtifactSpec; filename: string; format: 'zip'; name: string; expireIn: string },
): Promise<void> {
  const level = compressionLevel(variableValue(ctx.variables, 'ARTIFACT_COMPRESSION_LEVEL'), (m) => ctx.log.warning(m));
  const selection = select(ctx.log);
  const first = await peekEntries(selection.entries);
  try {
    if (first.empty && selection.count() === 0) {
      ctx.log.error('No files to upload');
      return;
    }
    let tries = 0;
    const produce: ArchiveProducer = async (out, signal) => {
      tries += 1;
      const entries = tries === 1 ? first.entries : select(new JobLog(new MemoryByteWriter(), { traceSections: false })).entries;
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
