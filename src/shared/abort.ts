/**
 * Small helpers around AbortSignal.
 *
 * Do not put `AbortSignal.timeout()` inside `AbortSignal.any()` on Node 20: the combined signal
 * holds its sources weakly and the timer holds the timeout signal weakly, so a garbage
 * collection in between drops the timeout and it never fires (seen: an after_script timeout that
 * never stopped the script). `timeoutSignal` keeps its controller reachable from a real timer.
 */

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The reason of an aborted signal as an Error (AbortSignal.reason may be anything). */
export function abortReason(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  if (r instanceof Error) return r;
  const e = new Error(typeof r === 'string' ? r : 'The operation was aborted');
  e.name = 'AbortError';
  return e;
}

/** A signal that aborts with a TimeoutError after `ms`; `clear()` stops the timer early. */
export interface TimeoutSignal {
  readonly signal: AbortSignal;
  readonly clear: () => void;
}

export function timeoutSignal(ms: number): TimeoutSignal {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(timeoutError(ms)), ms);
  timer.unref();
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}

/**
 * `signal` or the timeout, whichever comes first, safe against the collection described above;
 * `clear()` stops the timer once the work is done.
 */
export function withTimeout(signal: AbortSignal, ms: number): TimeoutSignal {
  const timeout = timeoutSignal(ms);
  return { signal: AbortSignal.any([signal, timeout.signal]), clear: timeout.clear };
}

function timeoutError(ms: number): Error {
  const e = new Error(`The operation timed out after ${ms} ms`);
  e.name = 'TimeoutError';
  return e;
}

/**
 * `p`, or the signal's reason as soon as the signal aborts (already aborted: at once); `p` goes
 * on, and `onAbort` runs once when the wait is cut.
 */
export function untilAborted<T>(p: Promise<T>, signal: AbortSignal | undefined, onAbort?: () => void): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) {
    onAbort?.();
    return Promise.reject(abortReason(signal));
  }
  return new Promise<T>((resolve, reject) => {
    const aborted = (): void => {
      onAbort?.();
      reject(abortReason(signal));
    };
    signal.addEventListener('abort', aborted, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', aborted));
  });
}
