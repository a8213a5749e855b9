/**
 * FileEntry: one file, folder or link of a job's project directory as it travels between the
 * container (the Engine's archive API), berth and an archive (zip, gzip, tar). Paths are
 * relative to CI_PROJECT_DIR, `/`-separated, without `./`, a leading `/` or a trailing `/`.
 *
 * A source of entries is an AsyncIterable in which each entry's `body` must be consumed (or
 * `resume()`d) before the next entry is asked for, as in a tar stream.
 */
import type { Readable } from 'node:stream';

export type FileEntryType = 'file' | 'directory' | 'symlink' | 'other';

export interface FileEntry {
  path: string;
  type: FileEntryType;
  /** Permission bits (0o755, ...). */
  mode: number;
  mtime: Date;
  /** Bytes of `body` (files only; 0 otherwise). */
  size: number;
  /** Target of a symbolic link, as stored (never followed); '' otherwise. */
  linkTarget: string;
  /** The content of a file; an empty stream for other types. */
  body: Readable;
  /**
   * The whole content of a file when the source already holds it in memory (a small file read
   * out of a tar stream): a writer may take it instead of reading `body`, and need not consume
   * `body` then (a source that sets `data` does not wait for it).
   */
  data?: Buffer;
}

export type FileEntrySource = AsyncIterable<FileEntry>;
