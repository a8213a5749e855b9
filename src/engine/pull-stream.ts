import type { Readable } from 'node:stream';
import { abortReason } from '../shared/abort.js';
import type { PullProgressEvent } from './engine-client.js';
import { EngineError } from './engine-error.js';

/**
 * Reads the newline-delimited JSON progress stream of an image pull. Every event is checked:
 * an `error` event rejects (dockerode's followProgress would report success). A stream that
 * ends without any event that says the pull completed is an error too.
 */
export function readPullStream(
  stream: Readable,
  ref: string,
  onProgress?: (e: PullProgressEvent) => void,
  signal?: AbortSignal,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    let failed: Error | null = null;
    let sawStatus = false;
    const onAbort = (): void => {
      stream.destroy();
      reject(abortReason(signal!));
    };
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });

    const handleLine = (line: string): void => {
      if (!line.trim() || failed) return;
      let ev: PullProgressEvent & { errorDetail?: { message?: string } };
      try {
        ev = JSON.parse(line) as typeof ev;
      } catch {
        failed = new EngineError('pull', 0, `Unreadable pull progress from the Docker engine for ${ref}`);
        return;
      }
      if (ev.error || ev.errorDetail?.message) {
        failed = new EngineError('pull', 0, ev.errorDetail?.message ?? ev.error ?? 'unknown pull error');
        return;
      }
      if (ev.status) sawStatus = true;
      onProgress?.(ev);
    };

    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        handleLine(buffered.slice(0, nl));
        buffered = buffered.slice(nl + 1);
      }
    });
    stream.on('error', (err) => {
      signal?.removeEventListener('abort', onAbort);
      reject(new EngineError('pull', 0, `Pull of ${ref} broke off: ${err.message}`, { cause: err }));
    });
    stream.on('end', () => {
      signal?.removeEventListener('abort', onAbort);
      handleLine(buffered);
      if (failed) reject(failed);
      else if (!sawStatus) reject(new EngineError('pull', 0, `The Docker engine ended the pull of ${ref} without a result`));
      else resolve();
    });
  });
}
