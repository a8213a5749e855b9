/**
 * rawInflater: raw Inflate of one whole buffer at a time through one zlib stream that is reset
 * between buffers, into one output buffer that is reused, instead of a new zlib stream and a new
 * output buffer per buffer as inflateRawSync makes (see rawDeflater for why, and for the
 * binding's writeSync it calls). The output is bounded: `inflate(input, size)` never produces
 * more than size + 1 bytes, so a caller that expects `size` sees a longer content as longer,
 * without inflating it (a zip bomb stops there).
 *
 * bench/artifacts/layers.mjs extract (a zip of 20,000 files of 10 KiB → tar → PUT archive, 3 runs
 * each): CPU 1.57-1.66 s and peak RSS 108-111 MB with inflateRawSync, 1.43-1.54 s and 98-99 MB
 * with this.
 *
 * A corrupt or truncated input is an Error, as inflateRawSync's (the stream is made anew for the
 * next call); where the Node version lacks the binding's writeSync, inflateRawSync does the work.
 */
import type * as Zlib from 'node:zlib';

export interface RawInflater {
  /**
   * The inflated content of `input`, at most size + 1 bytes (a longer content is cut there; an
   * inflateRawSync fallback throws ERR_BUFFER_TOO_LARGE instead). Up to REUSED_OUTPUT bytes it is
   * a view of the reused output buffer, valid until the next call: copy it before that.
   */
  inflate(input: Uint8Array, size: number): Buffer;
  close(): void;
}

/** Larger contents get a buffer of their own. */
export const REUSED_OUTPUT = 64 * 1024;

interface Handle {
  writeSync(flush: number, input: Uint8Array, inOff: number, inLen: number, out: Uint8Array, outOff: number, outLen: number): void;
  reset(): void;
}

export function rawInflater(zlib: typeof Zlib): RawInflater {
  let stream: Zlib.InflateRaw | undefined;
  let handle: Handle | undefined;
  let state: Uint32Array | undefined;
  let usable = true;
  let failure: Error | undefined;
  const scratch = Buffer.allocUnsafe(REUSED_OUTPUT + 1);
  const open = (): Handle | undefined => {
    if (handle || !usable) return handle;
    const s = zlib.createInflateRaw();
    // The stream reports a zlib error by destroying itself with it (its 'error' event a tick later).
    s.on('error', () => undefined);
    const inner = s as unknown as { _handle?: Handle & { onerror?: unknown }; _writeState?: unknown };
    const h = inner._handle;
    if (typeof h?.writeSync === 'function' && typeof h.reset === 'function' && typeof h.onerror === 'function' && inner._writeState instanceof Uint32Array && inner._writeState.length >= 2) {
      // The binding's error callback, seen first here: its message is the error inflate throws.
      const report = h.onerror as (this: unknown, message: string, errno: number, code: string) => void;
      h.onerror = function (this: unknown, message: string, errno: number, code: string): void {
        failure = Object.assign(new Error(message), { errno, code });
        report.call(this, message, errno, code);
      };
      stream = s;
      handle = h;
      state = inner._writeState;
    } else {
      usable = false;
      s.close();
    }
    return handle;
  };
  const drop = (): void => {
    stream?.close();
    stream = undefined;
    handle = undefined;
    state = undefined;
  };
  return {
    inflate(input: Uint8Array, size: number): Buffer {
      const h = open();
      if (!h || !state || !stream) return zlib.inflateRawSync(input, { maxOutputLength: Math.max(1, size) });
      const out = size + 1 <= scratch.length ? scratch : Buffer.allocUnsafe(size + 1);
      failure = undefined;
      h.writeSync(zlib.constants.Z_FINISH, input, 0, input.length, out, 0, size + 1);
      // An error destroys the stream at once (its 'error' event comes later): made anew next time.
      if (stream.destroyed) {
        drop();
        throw failure ?? new Error('unexpected end of file');
      }
      const produced = size + 1 - state[0]!;
      h.reset();
      return out === scratch ? scratch.subarray(0, produced) : out.subarray(0, produced);
    },
    close: drop,
  };
}
