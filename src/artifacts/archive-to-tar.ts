/**
 * archiveToTar: a downloaded archive (a dependency's artifacts, a cache) → the tar stream to write
 * into the project directory, by its format as gitlab-runner's extractors tell it from the first
 * bytes (commands/helpers/artifacts_downloader.go and cache_extractor.go): zstd is a tar+zstd
 * archive (gitlab-runner's CACHE_COMPRESSION_FORMAT=tarzstd, still named cache.zip), gzip is
 * refused (gitlab-runner has no extractor for it), anything else is read as a zip. Zstandard is
 * decoded only when `opts.zstd` says the file comes from a store only runners write.
 */
import type { Readable } from 'node:stream';
import { ArchiveError } from './archive-error.js';
import type { ExtractStats } from './archive-stats.js';
import { SNIFFED_BYTES, sniffArchive } from './sniff-archive.js';
import { tarZstdToTar } from './tar-zstd-to-tar.js';
import { zipToTar, type ZipToTarOptions } from './zip-to-tar.js';

export async function archiveToTar(file: string, opts: ZipToTarOptions): Promise<{ stream: Readable; done: Promise<ExtractStats> }> {
  const arriving = opts.arriving;
  // A file still arriving: its first bytes must be in before they tell the format.
  await arriving?.head(SNIFFED_BYTES);
  const format = await sniffArchive(file);
  if (format === 'zstd') {
    // Only zip is read while it arrives (its end first); tar+zstd once it is whole.
    await arriving?.completed();
    if (opts.zstd) return tarZstdToTar(file, opts);
    const kind = opts.kind ?? 'artifacts';
    throw new ArchiveError(
      file,
      undefined,
      `the ${kind} archive ${file} is a tar+zstd archive, which berth reads only as a cache from a runner's own cache folder or bucket ` +
        '(where gitlab-runner saves one with CACHE_COMPRESSION_FORMAT=tarzstd); here it extracts zip archives',
    );
  }
  if (format === 'gzip') {
    const kind = opts.kind ?? 'artifacts';
    throw new ArchiveError(
      file,
      undefined,
      `the ${kind} archive ${file} is a gzip file, which berth (like gitlab-runner) does not extract: ` +
        'it extracts zip and tar+zstd archives; save it again with a runner that writes one of those',
    );
  }
  return zipToTar(file, opts);
}
