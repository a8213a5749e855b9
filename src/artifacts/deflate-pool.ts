/**
 * DeflatePool: raw Deflate of many small files on worker threads, in batches, so that an
 * archive of thousands of small files is compressed beside the main thread (which reads the
 * container's tar stream, computes CRCs and writes the zip) instead of on it. saracen/fastzip,
 * gitlab-runner's zip archiver (commands/helpers/archive/fastzip/zip_fastzip_archiver.go,
 * FASTZIP_ARCHIVER_CONCURRENCY), likewise compresses several files at once on other threads.
 *
 * Files are copied into a batch buffer (one copy, no per-file Buffer.concat); a batch goes to a
 * worker as one transferred ArrayBuffer once it holds BATCH_BYTES, or when the writer needs one
 * of its files (`wait`). Each file is its own complete raw Deflate stream (rawDeflater: one zlib
 * stream reset between files, in the worker and on this thread alike), as a zip entry must be. The worker writes the compressed files back into the
 * same buffer and transfers it back; once the writer has `release`d every file of a batch, the
 * buffer serves the next batch. So the buffers are allocated once (about WINDOW / BATCH_BYTES of
 * them) instead of twice per megabyte: the churn of large short-lived buffers, not the data in
 * flight, was what made the resident memory grow. The workers start only for
 * the first full batch: an archive of a few small files is compressed inline, on this thread,
 * and starts no thread at all. Workers are started from source text (`eval`), so this works the
 * same from the TypeScript sources, the compiled files and the bundled CLI.
 */
import { Worker } from 'node:worker_threads';
import * as zlib from 'node:zlib';
import { rawDeflater, type RawDeflater } from './raw-deflater.js';
import { DeflateStrategy, type DeflateMode } from './deflate-strategy.js';
import { LiteralCoder } from './literal-coder.js';
import { renewYoungGenerationLimit } from './limit-young-generation.js';

const BATCH_BYTES = 512 * 1024;

/** DeflateMode as sent to a worker. */
const MODE_LEVEL = 0;
const MODE_HUFFMAN = 1;
const MODE_PROBE = 2;
const MODE_CODES: Readonly<Record<DeflateMode, number>> = { level: MODE_LEVEL, huffman: MODE_HUFFMAN, probe: MODE_PROBE };

/** The worker's program: rawDeflater (its source text) and a loop over the batches it is sent. */
const workerSource = (): string => `
const { parentPort } = require('node:worker_threads');
const zlib = require('node:zlib');
const rawDeflater = ${rawDeflater.toString()};
let level;
let huffman;
let lz;
parentPort.on('message', (m) => {
  try {
    if (m.level !== level) {
      level = m.level;
      huffman = rawDeflater(zlib, level, zlib.constants.Z_HUFFMAN_ONLY);
      lz = rawDeflater(zlib, level, zlib.constants.Z_DEFAULT_STRATEGY);
    }
    let buffer = Buffer.from(m.data);
    const outs = [];
    const probes = [];
    let total = 0;
    let start = 0;
    m.ends.forEach((end, i) => {
      const input = buffer.subarray(start, end);
      const mode = m.modes[i];
      let o = mode === ${MODE_HUFFMAN} ? huffman.deflate(input) : lz.deflate(input);
      if (mode === ${MODE_PROBE}) {
        const h = huffman.deflate(input);
        probes.push(i, o.length, h.length);
        if (h.length < o.length) o = h;
      }
      outs.push(o);
      total += o.length;
      start = end;
    });
    // Back into the same buffer (its input is no longer needed), unless it does not fit.
    if (total > buffer.length) buffer = Buffer.from(new ArrayBuffer(total));
    const lengths = [];
    let at = 0;
    for (const o of outs) {
      buffer.set(o, at);
      at += o.length;
      lengths.push(o.length);
    }
    parentPort.postMessage({ id: m.id, data: buffer.buffer, lengths, probes }, [buffer.buffer]);
  } catch (err) {
    parentPort.postMessage({ id: m.id, error: String((err && err.message) || err) });
  }
});
`;

/** Buffers kept for reuse at most (the window of writeZip needs about 10). */
const FREE_BUFFERS = 16;

/** One file in a batch, and who waits for its compressed form. */
export interface DeflateJob {
  readonly batch: Batch;
  /** The file's kind (DeflateStrategy), told what a probe of it found. */
  readonly kind: string;
  readonly result: Promise<Buffer>;
  resolve(b: Buffer): void;
  reject(err: Error): void;
  released: boolean;
}

interface Batch {
  id: number;
  /** A buffer of its own (never a slice of Buffer's pool): it is transferred to the worker and back. */
  buffer: ArrayBuffer;
  used: number;
  ends: number[];
  /** Each file's mode (MODE_*). */
  modes: number[];
  jobs: DeflateJob[];
  sent: boolean;
  /** Jobs not yet released. */
  open: number;
  /** Set when the compressed files are in `buffer` (or elsewhere, `buffer` is free once all are released). */
  done: boolean;
}

interface WorkerReply {
  id: number;
  data?: ArrayBuffer;
  lengths?: number[];
  /** For each probed file: its index in the batch, its size at the level, its size with Huffman codes alone. */
  probes?: number[];
  error?: string;
}

/**
 * The default number of workers: none. Measured with bench/artifacts/layers.mjs (20,000 files of
 * 10 KiB, level 5, 2 cores): a worker costs 25-30 MB of peak RSS (its isolate, its own dead
 * Buffers, and a new isolate resets V8's young-generation limit, see limitYoungGeneration) for
 * the same CPU time; it shortens the archive step only on an idle machine, and a runner's
 * cores are busy with its jobs. Callers may still ask for workers (deflateThreads).
 */
export function defaultDeflateThreads(): number {
  return 0;
}

export class DeflatePool {
  private readonly workers: Worker[] = [];
  private readonly inFlight = new Map<number, Batch>();
  private readonly free: ArrayBuffer[] = [];
  private batch: Batch | undefined;
  private nextId = 1;
  private nextWorker = 0;
  private failure: Error | undefined;
  private started = 0;
  /** When to code a file with Huffman codes alone, learnt from this pool's probes. */
  private readonly strategy = new DeflateStrategy();
  private readonly huffman: RawDeflater;
  private readonly lz: RawDeflater;
  /** Huffman codes alone on this thread, with a code kept per kind (see LiteralCoder). */
  private readonly literals = new LiteralCoder();

  constructor(
    private readonly level: number,
    /** Worker threads it may start (0: every batch compressed on the caller's thread). */
    readonly threads = defaultDeflateThreads(),
  ) {
    this.huffman = rawDeflater(zlib, level, zlib.constants.Z_HUFFMAN_ONLY);
    this.lz = rawDeflater(zlib, level, zlib.constants.Z_DEFAULT_STRATEGY);
  }

  /** How many worker threads were started (0 while everything was compressed inline). */
  get threadsStarted(): number {
    return this.started;
  }

  /**
   * Queues one file (its bytes as `chunks`, `size` in all; `kind`: see fileKind) and returns the
   * job to `wait` for and then `release`. The bytes are copied into the batch at once: the chunks
   * may be reused.
   */
  submit(chunks: readonly Uint8Array[], size: number, kind = ''): DeflateJob {
    this.check();
    if (this.batch && this.batch.used + size > this.batch.buffer.byteLength) this.send(this.batch, false);
    const batch = (this.batch ??= this.newBatch(size));
    let resolve!: (b: Buffer) => void;
    let reject!: (err: Error) => void;
    const result = new Promise<Buffer>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    result.catch(() => undefined);
    const job: DeflateJob = { batch, kind, result, resolve, reject, released: false };
    const view = new Uint8Array(batch.buffer);
    for (const c of chunks) {
      view.set(c, batch.used);
      batch.used += c.length;
    }
    batch.jobs.push(job);
    batch.open++;
    batch.ends.push(batch.used);
    batch.modes.push(MODE_CODES[this.strategy.mode(kind, size)]);
    if (batch.used >= BATCH_BYTES) this.send(batch, false);
    return job;
  }

  /**
   * One file compressed at once on this thread (a pool without workers has nothing to gather a
   * batch for): a view of a deflater's output buffer, valid until the next call; copy it before.
   */
  deflateNow(input: Uint8Array, kind = ''): Buffer {
    this.check();
    return this.deflateView(input, MODE_CODES[this.strategy.mode(kind, input.length)], kind);
  }

  /**
   * The compressed bytes of a job's file (sending its batch first if it still waits). They are
   * a view into a buffer that is reused once the job is released: copy them before that.
   */
  wait(job: DeflateJob): Promise<Buffer> {
    if (!job.batch.sent) this.send(job.batch, true);
    return job.result;
  }

  /** The caller is done with a job's bytes. */
  release(job: DeflateJob): void {
    if (job.released) return;
    job.released = true;
    const batch = job.batch;
    if (--batch.open === 0 && batch.done && batch.buffer.byteLength === BATCH_BYTES && this.free.length < FREE_BUFFERS) this.free.push(batch.buffer);
  }

  /** Stops the workers; jobs still waiting are rejected. */
  async close(): Promise<void> {
    this.batch = undefined;
    this.free.length = 0;
    const pending = [...this.inFlight.values()];
    this.inFlight.clear();
    for (const b of pending) for (const j of b.jobs) j.reject(new Error('the compression was stopped'));
    this.huffman.close();
    this.lz.close();
    await Promise.all(this.workers.splice(0).map((w) => w.terminate()));
  }

  private newBatch(size: number): Batch {
    const buffer = size <= BATCH_BYTES ? (this.free.pop() ?? new ArrayBuffer(BATCH_BYTES)) : new ArrayBuffer(size);
    return { id: this.nextId++, buffer, used: 0, ends: [], modes: [], jobs: [], sent: false, open: 0, done: false };
  }

  /**
   * Hands `batch` to a worker. `needed`: the writer waits for it before the batch is full; with
   * no worker started yet (an archive of a few small files), it is compressed here instead, as
   * every batch is with `threads` 0 (no worker: about 30 MB less resident memory, all the
   * compression on this thread).
   */
  private send(batch: Batch, needed: boolean): void {
    if (batch.sent) return;
    batch.sent = true;
    if (this.batch === batch) this.batch = undefined;
    if ((needed && this.workers.length === 0) || this.threads <= 0) {
      let start = 0;
      batch.jobs.forEach((job, i) => {
        const end = batch.ends[i]!;
        job.resolve(this.deflateHere(new Uint8Array(batch.buffer, start, end - start), batch.modes[i]!, job.kind));
        start = end;
      });
      batch.done = true;
      return;
    }
    if (this.workers.length < this.threads) {
      this.workers.push(this.startWorker());
      this.started++;
    }
    const worker = this.workers[this.nextWorker++ % this.workers.length]!;
    this.inFlight.set(batch.id, batch);
    worker.postMessage({ id: batch.id, level: this.level, data: batch.buffer, ends: batch.ends, modes: batch.modes }, [batch.buffer]);
  }

  /** One file of a batch compressed on this thread, as the worker does (workerSource): a copy of its own. */
  private deflateHere(input: Uint8Array, mode: number, kind: string): Buffer {
    return Buffer.from(this.deflateView(input, mode, kind));
  }

  /**
   * `input` compressed in `mode` (a probe tells the strategy what it found, and the kind's
   * literal code learns from it): a view of a deflater's output buffer.
   */
  private deflateView(input: Uint8Array, mode: number, kind: string): Buffer {
    if (mode === MODE_HUFFMAN) return this.literals.encode(kind, input) ?? this.huffman.deflateView(input);
    const out = this.lz.deflateView(input);
    if (mode !== MODE_PROBE) return out;
    const huffman = this.huffman.deflateView(input);
    this.strategy.record(kind, out.length, huffman.length);
    this.literals.learn(kind, input);
    return huffman.length < out.length ? huffman : out;
  }

  /** Files coded with Huffman codes alone by LiteralCoder on this thread (for tests). */
  get literalFiles(): number {
    return this.literals.coded;
  }

  private startWorker(): Worker {
    // Small heap limits: the worker holds a batch at a time; a large young generation only
    // lets garbage (zlib's per-file objects) pile up in resident memory.
    const w = new Worker(workerSource(), { eval: true, resourceLimits: { maxYoungGenerationSizeMb: 2, maxOldGenerationSizeMb: 32 } });
    w.unref();
    // Setting up the worker's isolate resets V8's young-generation growth factor for the process.
    w.once('online', () => renewYoungGenerationLimit());
    w.on('message', (m: WorkerReply) => this.onReply(m));
    w.on('error', (err) => this.fail(err));
    w.on('exit', (code) => {
      if (code !== 0 && this.inFlight.size > 0) this.fail(new Error(`a compression worker exited with code ${code}`));
    });
    return w;
  }

  private onReply(m: WorkerReply): void {
    const batch = this.inFlight.get(m.id);
    if (!batch) return;
    this.inFlight.delete(m.id);
    if (m.error !== undefined || !m.data || !m.lengths) {
      const err = new Error(`compression failed: ${m.error ?? 'no data'}`);
      for (const j of batch.jobs) j.reject(err);
      return;
    }
    batch.buffer = m.data;
    batch.done = true;
    const probes = m.probes ?? [];
    for (let p = 0; p + 2 < probes.length; p += 3) {
      const job = batch.jobs[probes[p]!];
      if (job) this.strategy.record(job.kind, probes[p + 1]!, probes[p + 2]!);
    }
    let at = 0;
    batch.jobs.forEach((job, i) => {
      const n = m.lengths![i]!;
      job.resolve(Buffer.from(m.data!, at, n));
      at += n;
    });
  }

  private fail(err: Error): void {
    this.failure ??= err;
    const pending = [...this.inFlight.values()];
    this.inFlight.clear();
    for (const b of pending) for (const j of b.jobs) j.reject(err);
  }

  private check(): void {
    if (this.failure) throw this.failure;
  }
}
