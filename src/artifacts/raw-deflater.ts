/**
 * rawDeflater: raw Deflate of one whole buffer at a time through one zlib stream that is reset
 * between buffers, instead of a new zlib stream per buffer as deflateRawSync makes.
 *
 * Why: an archive of thousands of small files deflated them one deflateRawSync each, and each
 * call set up and tore down a zlib stream: a JS stream object, the native one and its ~270 KiB of
 * window and tables (allocated, cleared, freed). bench/artifacts/layers.mjs archive0 (20,000
 * files of 10 KiB, level 5, on this thread): CPU 2.97 s before, 2.57-2.74 s (4 runs) after; in
 * a CPU profile, zlib's share went from 1.61 s (constructors 0.21 s) to 0.92 s.
 *
 * The stream's own synchronous write (the binding's writeSync, which deflateRawSync uses inside
 * Node) is called directly; Node documents no public call for it. Where a Node version lacks it,
 * or an answer looks wrong (input left over, output full), the buffer is deflated again with
 * deflateRawSync, so the output is always a complete raw Deflate stream of the whole input.
 *
 * The function refers to nothing outside itself (zlib is passed in): DeflatePool's workers run
 * its source text (Function.prototype.toString) as well.
 */
import type * as Zlib from 'node:zlib';

export interface RawDeflater {
  /** The raw Deflate stream of `input`, in a buffer of its own. */
  deflate(input: Uint8Array): Buffer;
  /** The same, as a view of the deflater's output buffer: valid until its next call (copy it before). */
  deflateView(input: Uint8Array): Buffer;
  close(): void;
}

export function rawDeflater(zlib: typeof Zlib, level: number, strategy: number): RawDeflater {
  interface Handle {
    writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
    reset(): void;
  }
  const opts = { level, strategy };
  let stream: Zlib.DeflateRaw | undefined;
  let handle: Handle | undefined;
  let state: Uint32Array | undefined;
  let usable = true;
  let out = Buffer.allocUnsafe(64 * 1024);
  const open = (): Handle | undefined => {
    if (handle || !usable) return handle;
    stream = zlib.createDeflateRaw(opts);
    const inner = stream as unknown as { _handle?: Handle; _writeState?: unknown };
    if (typeof inner._handle?.writeSync === 'function' && typeof inner._handle.reset === 'function' && inner._writeState instanceof Uint32Array && inner._writeState.length >= 2) {
      handle = inner._handle;
      state = inner._writeState;
    } else {
      usable = false;
      stream.close();
      stream = undefined;
    }
    return handle;
  };
  const deflateView = (input: Uint8Array): Buffer => {
    const h = open();
    if (!h || !state) return zlib.deflateRawSync(input, opts);
    // Deflate adds at most 5 bytes per 16 KiB block to incompressible input.
    const room = input.length + (input.length >> 3) + 64;
    if (out.length < room) out = Buffer.allocUnsafe(room);
    h.writeSync(zlib.constants.Z_FINISH, input, 0, input.length, out, 0, out.length);
    const availOut = state[0]!;
    const availIn = state[1]!;
    h.reset();
    if (availIn !== 0 || availOut === 0 || availOut > out.length) return zlib.deflateRawSync(input, opts);
    return out.subarray(0, out.length - availOut);
  };
  return {
    deflateView,
    deflate(input: Uint8Array): Buffer {
      const view = deflateView(input);
      return view.buffer === out.buffer ? Buffer.from(view) : view;
    },
    close(): void {
      stream?.close();
      stream = undefined;
      handle = undefined;
      state = undefined;
    },
  };
}
