/**
 * appendStatement: the entries of an archive, each regular file's sha256 computed as its bytes
 * pass on their way to the archive writer (never read twice), then one more entry: the artifacts
 * statement made from those digests (see artifacts-statement.ts), the last of the archive.
 *
 * gitlab-runner (commands/helpers/artifacts_uploader.go Execute) reads every file once to hash
 * it (artifact_metadata.go generateSubjects), writes `<name>-metadata.json` in the working
 * directory, adds it to its file list and then archives; berth streams the files out of the
 * container once, so it hashes them on the way and appends the statement at the end. Only
 * regular files are subjects (`fi.Mode().IsRegular()`): no folders, links or other types.
 *
 * A selected file at the statement's own path is not archived: gitlab-runner overwrites it with
 * the statement (os.WriteFile) after hashing it, so its digest is among the subjects and the
 * archive holds the statement there.
 *
 * The writer must consume each entry's content (`data`, or `body` through) before it asks for
 * the next one, as every FileEntrySource requires; a file whose digest is still missing at the
 * end fails the archive (ArtifactsStatementError) rather than make a wrong statement.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { ArtifactsStatementError } from './artifacts-statement-error.js';
import type { StatementSubject } from './artifacts-statement.js';
import type { FileEntry, FileEntrySource } from './file-entry.js';

export interface AppendStatementOptions {
  /**
   * The statement's path in the archive; null: it is not archived (gitlab-runner's file list
   * refuses it: outside the project directory, or excluded), the files are then not hashed.
   */
  path: string | null;
  /** The statement's bytes for the subjects, called once the entries are exhausted (it may log). */
  statement: (subjects: StatementSubject[]) => Buffer;
  /** The statement's modification time (default: when it is made). */
  now?: () => Date;
}

export async function* appendStatement(entries: FileEntrySource, opts: AppendStatementOptions): AsyncGenerator<FileEntry> {
  const { path } = opts;
  if (path === null) {
    yield* entries;
    opts.statement([]);
    return;
  }
  const subjects: StatementSubject[] = [];
  for await (const entry of entries) {
    if (entry.path === path) {
      // overwritten by the statement; its content still hashed when it is a regular file
      if (entry.type === 'file') subjects.push({ name: entry.path, digest: { sha256: await digestOf(entry) } });
      else entry.body.resume();
      continue;
    }
    if (entry.type !== 'file') {
      yield entry;
      continue;
    }
    const subject: StatementSubject = { name: entry.path, digest: { sha256: '' } };
    subjects.push(subject);
    if (entry.data !== undefined) {
      // The writer takes `data` (the source need not be waited for): its bytes are the content.
      subject.digest.sha256 = sha256(entry.data);
      yield entry;
    } else {
      yield withBody(entry, hashing(entry.body, (hex) => (subject.digest.sha256 = hex)));
    }
  }
  for (const s of subjects) {
    if (s.digest.sha256 === '') {
      throw new ArtifactsStatementError(s.name, `the artifacts statement has no digest for ${s.name}: its content was not read through`);
    }
  }
  const bytes = opts.statement(subjects);
  yield {
    path,
    type: 'file',
    // os.WriteFile(..., 0o644)
    mode: 0o644,
    mtime: opts.now?.() ?? new Date(),
    size: bytes.length,
    linkTarget: '',
    data: bytes,
    // what a writer reads when it streams a large file (thousands of subjects) instead of taking `data`
    body: Readable.from([bytes], { objectMode: false }),
  };
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

async function digestOf(entry: FileEntry): Promise<string> {
  if (entry.data !== undefined) return sha256(entry.data);
  const hash = createHash('sha256');
  for await (const chunk of entry.body) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * `body` as it is, hashed on its way; `done` gets the hex digest once it ended. `body` is read
 * with an async iterator, as the archive writers read bodies (the readTar case in
 * append-statement.test.ts streams a 2.5 MB body through it; piped, readTar's bodies stalled
 * before cdf3961).
 */
function hashing(body: Readable, done: (hex: string) => void): Readable {
  async function* chunks(): AsyncGenerator<Buffer> {
    const hash = createHash('sha256');
    for await (const chunk of body) {
      hash.update(chunk as Buffer);
      yield chunk as Buffer;
    }
    done(hash.digest('hex'));
  }
  // An error of `body` reaches the reader; a reader that stops ends the iteration, which destroys `body`.
  return Readable.from(chunks(), { objectMode: false });
}

/**
 * The entry with another body. Its fields are copied one by one: a source's entry may be a
 * class whose `body` is a getter (a spread would drop it, and would make a body it does not need).
 */
function withBody(entry: FileEntry, body: Readable): FileEntry {
  return { path: entry.path, type: entry.type, mode: entry.mode, mtime: entry.mtime, size: entry.size, linkTarget: entry.linkTarget, body };
}
