/**
 * Archives are streamed, never held in memory: a 200 MB zip of 2,000 files is written from
 * generated bodies and streamed back out as tar with small RSS growth. Slow (tens of seconds on
 * a small machine): runs when BERTH_SLOW_TESTS=1.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeZip } from './write-zip.js';
import { zipToTar } from './zip-to-tar.js';
import { fileEntries, patternBody, type EntrySpec } from '../../test/support/archive-entries.js';

const FILES = 2_000;
const SIZE = 100 * 1024;
const MB = 1024 * 1024;

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'berth-archive-memory-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Samples RSS while `work` runs; returns the peak growth over the RSS before it, in MB. */
async function peakGrowth(work: () => Promise<void>): Promise<number> {
  globalThis.gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  peak = Math.max(peak, process.memoryUsage().rss);
  return (peak - before) / MB;
}

describe.runIf(process.env.BERTH_SLOW_TESTS === '1')('archives are streamed (BERTH_SLOW_TESTS=1)', () => {
  it('writes a 200 MB zip of 2,000 files and streams it back as tar with RSS growth under 100 MB', { timeout: 180_000 }, async () => {
    const file = join(dir, 'big.zip');
    const specs = function* (): Generator<EntrySpec> {
      for (let i = 0; i < FILES; i++) {
        yield { path: `d${i % 20}/f${i}.bin`, body: () => patternBody(SIZE, i), size: SIZE };
      }
    };
    let written = { entries: 0, bytes: 0 };
    const t0 = Date.now();
    const writeGrowth = await peakGrowth(async () => {
      written = await writeZip(fileEntries(specs()), file, { level: 1, signal: AbortSignal.timeout(170_000) });
    });
    const t1 = Date.now();
    expect(written.entries).toBe(FILES);
    expect(written.bytes).toBe((await stat(file)).size);
    expect(written.bytes).toBeGreaterThan(FILES * SIZE * 0.9);

    let tarBytes = 0;
    let extracted = { entries: 0, bytes: 0 };
    const readGrowth = await peakGrowth(async () => {
      const { stream, done } = await zipToTar(file, { signal: AbortSignal.timeout(170_000) });
      for await (const chunk of stream) tarBytes += (chunk as Buffer).length;
      extracted = await done;
    });
    const t2 = Date.now();
    expect(extracted).toEqual({ entries: FILES, bytes: FILES * SIZE });
    expect(tarBytes).toBeGreaterThan(FILES * SIZE);
    console.log(
      `archive memory: zip ${(written.bytes / MB).toFixed(0)} MB written in ${t1 - t0} ms (RSS +${writeGrowth.toFixed(1)} MB); ` +
        `tar ${(tarBytes / MB).toFixed(0)} MB streamed in ${t2 - t1} ms (RSS +${readGrowth.toFixed(1)} MB)`,
    );
    expect(writeGrowth).toBeLessThan(100);
    expect(readGrowth).toBeLessThan(100);
  });
});
