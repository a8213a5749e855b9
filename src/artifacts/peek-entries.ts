/**
 * peekEntries: asks a FileEntrySource for its first entry, and hands back a source that yields
 * that entry and then the rest. A streamed upload needs it: "No files to upload" must be known
 * before the request goes out (gitlab-runner enumerates the files before it archives,
 * commands/helpers/artifacts_uploader.go), while the files are read only once.
 */
import type { FileEntry, FileEntrySource } from './file-entry.js';

export interface PeekedEntries {
  /** No entry at all (the source is finished). */
  empty: boolean;
  /** The first entry and the rest; iterate it at most once. */
  entries: FileEntrySource;
  /** Ends the source when `entries` was never iterated to its end (frees what it holds open). */
  close(): Promise<void>;
}

export async function peekEntries(source: FileEntrySource): Promise<PeekedEntries> {
  const it = source[Symbol.asyncIterator]();
  const first = await it.next();
  let finished = first.done === true;
  let taken = false;
  async function* rest(): AsyncGenerator<FileEntry> {
    if (taken) throw new Error('peekEntries: the entries were already iterated');
    taken = true;
    try {
      if (first.done) return;
      yield first.value;
      for (;;) {
        const next = await it.next();
        if (next.done) return;
        yield next.value;
      }
    } finally {
      finished = true;
      await it.return?.();
    }
  }
  return {
    empty: first.done === true,
    entries: { [Symbol.asyncIterator]: () => rest() },
    async close(): Promise<void> {
      if (finished || taken) return;
      finished = true;
      if (!first.done) first.value.body.resume();
      await it.return?.();
    },
  };
}
