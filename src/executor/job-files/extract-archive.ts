/**
 * extractArchive: a downloaded archive (a dependency's artifacts, a cache) into the project
 * directory. When the archive is still arriving (LocalArchive.arriving), the extraction runs
 * while it downloads, and the outcome is the download's when it failed (its error says what
 * went wrong; the extraction only saw bytes stop coming).
 */
import { archiveToTar } from '../../artifacts/archive-to-tar.js';
import type { ExtractStats } from '../../artifacts/archive-stats.js';
import type { ZipToTarOptions } from '../../artifacts/zip-to-tar.js';
import type { ProjectFiles } from '../project-files.js';
import type { LocalArchive } from './transports.js';

export async function extractArchive(
  archive: LocalArchive,
  files: ProjectFiles,
  opts: Omit<ZipToTarOptions, 'arriving'> & { signal: AbortSignal },
): Promise<ExtractStats> {
  const arriving = archive.arriving;
  try {
    const { stream, done } = await archiveToTar(archive.path, { ...opts, ...(arriving ? { arriving: arriving.file } : {}) });
    const [, stats] = await Promise.all([files.write(stream, opts.signal), done]);
    if (arriving) {
      await arriving.done;
      // The body differed from the end fetched first (the object changed meanwhile): what was
      // extracted may not be the archive.
      arriving.file.check();
    }
    return stats;
  } catch (err) {
    // The download failed: that failure, not the extraction's view of it.
    if (arriving?.file.failed) await arriving.done;
    throw err;
  }
}
