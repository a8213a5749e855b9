import { describe, expect, it } from 'vitest';
import { fileEntries } from '../../test/support/archive-entries.js';
import type { FileEntry, FileEntrySource } from './file-entry.js';
import { peekEntries } from './peek-entries.js';

/** A source of `n` files that records whether it was ended (its generator's finally ran). */
function source(n: number): { entries: FileEntrySource; ended: () => boolean } {
  let ended = false;
  async function* gen(): AsyncGenerator<FileEntry> {
    try {
      yield* fileEntries(Array.from({ length: n }, (_, i) => ({ path: `f${i}`, content: `c${i}` })));
    } finally {
      ended = true;
    }
  }
  return { entries: gen(), ended: () => ended };
}

async function paths(entries: FileEntrySource): Promise<string[]> {
  const out: string[] = [];
  for await (const e of entries) {
    e.body.resume();
    out.push(e.path);
  }
  return out;
}

describe('peekEntries', () => {
  it('yields the peeked entry, then the rest, from one pass over the source', async () => {
    const s = source(3);
    const peeked = await peekEntries(s.entries);
    expect(peeked.empty).toBe(false);
    expect(await paths(peeked.entries)).toEqual(['f0', 'f1', 'f2']);
    expect(s.ended()).toBe(true);
    await expect(paths(peeked.entries)).rejects.toThrow('already iterated');
  });

  it('an empty source is empty', async () => {
    const peeked = await peekEntries(source(0).entries);
    expect(peeked.empty).toBe(true);
    expect(await paths(peeked.entries)).toEqual([]);
  });

  it('close() ends a source that was never iterated (what it holds open is freed)', async () => {
    const s = source(3);
    const peeked = await peekEntries(s.entries);
    expect(s.ended()).toBe(false);
    await peeked.close();
    expect(s.ended()).toBe(true);
  });

  it('a consumer that stops early ends the source too', async () => {
    const s = source(5);
    const peeked = await peekEntries(s.entries);
    for await (const e of peeked.entries) {
      e.body.resume();
      if (e.path === 'f1') break;
    }
    expect(s.ended()).toBe(true);
  });
});
