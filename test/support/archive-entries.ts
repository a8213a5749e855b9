/**
 * FileEntry sources for tests of the archive writers (src/artifacts/): entries built from plain
 * specs, with the contract of file-entry.ts enforced (a body must be consumed, or resumed, before
 * the next entry is asked for), so a writer that breaks it fails its test.
 */
import { Readable } from 'node:stream';
import type { FileEntry, FileEntrySource } from '../../src/artifacts/file-entry.js';

export interface EntrySpec {
  path: string;
  type?: FileEntry['type'];
  mode?: number;
  mtime?: Date;
  /** File content (files only). */
  content?: string | Buffer;
  /** A streamed body of `size` bytes instead of `content`. */
  body?: () => Readable;
  size?: number;
  linkTarget?: string;
}

export const T0 = new Date('2024-05-06T07:08:10Z');

export async function* fileEntries(specs: Iterable<EntrySpec>): FileEntrySource {
  let previous: { body: Readable; file: boolean } | undefined;
  const settled = (p: { body: Readable; file: boolean }): boolean =>
    p.body.readableEnded || p.body.destroyed || (!p.file && p.body.readableFlowing === true);
  for (const s of specs) {
    if (previous && !settled(previous)) {
      // give the consumer a tick: 'end' is emitted asynchronously after the last read
      await new Promise((r) => setImmediate(r));
      if (!settled(previous)) throw new Error(`the body before ${s.path} was not consumed`);
    }
    const type = s.type ?? 'file';
    const content = s.content === undefined ? undefined : Buffer.from(s.content);
    const body = type === 'file' ? (s.body ? s.body() : Readable.from(content && content.length ? [content] : [])) : Readable.from([]);
    previous = { body, file: type === 'file' };
    yield {
      path: s.path,
      type,
      mode: s.mode ?? (type === 'directory' ? 0o755 : type === 'symlink' ? 0o777 : 0o644),
      mtime: s.mtime ?? T0,
      size: type === 'file' ? (s.size ?? content?.length ?? 0) : 0,
      linkTarget: s.linkTarget ?? '',
      body,
    };
  }
}

/** A body of `size` incompressible bytes (xorshift32 from `seed`), produced on demand. */
export function patternBody(size: number, seed = 0, chunk = 64 * 1024): Readable {
  let sent = 0;
  let x = (seed * 2654435761 + 0x9e3779b9) >>> 0 || 1;
  return new Readable({
    read(): void {
      if (sent >= size) {
        this.push(null);
        return;
      }
      const n = Math.min(chunk, size - sent);
      const words = new Uint32Array(Math.ceil(n / 4));
      for (let i = 0; i < words.length; i++) {
        x ^= x << 13;
        x ^= x >>> 17;
        x ^= x << 5;
        words[i] = x >>> 0;
      }
      sent += n;
      this.push(Buffer.from(words.buffer, 0, n));
    },
  });
}
