/**
 * waitForDrain: waits until `out` takes writes again ('drain'). Rejects with its error, with the
 * signal's reason on abort, and — when `closedMessage` is given — with that message if the
 * stream closes first (a stream berth does not own may be closed under it).
 */
import type { Writable } from 'node:stream';
import { abortReason } from '../shared/abort.js';

export function waitForDrain(out: Writable, signal: AbortSignal, closedMessage?: string): Promise<void> {
  return waitFor(undefined, out, signal, closedMessage);
}

/**
 * Waits for `event` (a promise: a chunk's release), or for 'drain' when it is undefined, with the
 * same rejections as waitForDrain.
 */
export function waitFor(event: Promise<void> | undefined, out: Writable, signal: AbortSignal, closedMessage?: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const done = (err?: Error): void => {
      if (settled) return;
      settled = true;
      out.off('drain', onDrain);
      out.off('close', onClose);
      out.off('error', onError);
      signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = (): void => done();
    const onClose = (): void => done(new Error(closedMessage));
    const onError = (err: Error): void => done(err);
    const onAbort = (): void => done(abortReason(signal));
    if (event) void event.then(() => done());
    else out.on('drain', onDrain);
    if (closedMessage !== undefined) out.on('close', onClose);
    out.on('error', onError);
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
  });
}
