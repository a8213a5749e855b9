/**
 * A multipart/form-data body with the one part `file`, whose content is made while it is sent:
 * gitlab-runner's artifacts uploader streams the zip through an io.Pipe with no length (chunked)
 * and builds it again for every retry, re-archiving (network/gitlab.go
 * createArtifactsContentProvider; commands/helpers/artifacts_uploader.go createBodyProvider).
 * Nothing touches the disk.
 *
 * Every `open()` (one per try) runs `produce` afresh into the body. When the request ends before
 * the archive does (an early answer, a network error), the producer is stopped; `settle()` waits
 * for it and says what it did: its own failure (an archive that cannot be written is not a
 * network problem and is not retried) or the bytes of the archive sent.
 */
import { Transform, type Readable } from 'node:stream';
import type { ArchiveProducer } from '../executor/job-files/transports.js';
import { offerReleaseWaits } from '../shared/chunk-release.js';
import type { StreamBody } from './http-transport.js';
import { multipartFraming } from './multipart-file-body.js';

export type { ArchiveProducer } from '../executor/job-files/transports.js';

/** What the producer of the last `open()` did. */
export type ProducerOutcome =
  /** The whole archive, `bytes` long, was handed to the request. */
  | { kind: 'complete'; bytes: number }
  /** Stopped because the request ended first (`bytes`: what was handed over until then). */
  | { kind: 'stopped'; bytes: number }
  /** The producer failed on its own: the archive could not be made. */
  | { kind: 'failed'; error: unknown };

export interface MultipartStreamBody {
  contentType: string;
  body: StreamBody;
  /** Stops the producer of the last `open()` if it still runs, and says what it did. */
  settle(): Promise<ProducerOutcome>;
  /** Bytes of the archive the last `open()` has passed on so far. */
  sent(): number;
}

/** Bytes queued between the producer and the request: one output block of writeZip (the socket buffers more). */
const HIGH_WATER_MARK = 256 * 1024;

export function multipartStreamBody(filename: string, produce: ArchiveProducer, signal: AbortSignal, field = 'file'): MultipartStreamBody {
  const { contentType, head, tail } = multipartFraming(filename, field);
  let current: Promise<ProducerOutcome> = Promise.resolve({ kind: 'stopped', bytes: 0 });
  let stopCurrent = (): void => undefined;
  let sentNow = (): number => 0;
  return {
    contentType,
    body: {
      open(): Readable {
        let passed = 0;
        // The request body: the framing and the archive's bytes, counted as they pass.
        const body = new Transform({
          highWaterMark: HIGH_WATER_MARK,
          transform(chunk: Buffer, _encoding, callback) {
            passed += chunk.length;
            callback(null, chunk);
          },
        });
        // The archive's blocks pass as they are; the writer reuses each once the transport released it.
        offerReleaseWaits(body);
        const stop = new AbortController();
        const requestGone = (): void => stop.abort(new Error('the request ended before the archive was sent'));
        body.once('close', requestGone);
        stopCurrent = requestGone;
        body.write(head);
        const sent = (): number => Math.max(0, passed - head.length);
        // Once the archive is whole, its size (the tail that follows is no part of it).
        let whole: number | undefined;
        sentNow = () => whole ?? sent();
        current = produce(body, AbortSignal.any([signal, stop.signal])).then(
          ({ bytes }): ProducerOutcome => {
            if (stop.signal.aborted) return { kind: 'stopped', bytes: sent() };
            whole = bytes;
            body.end(tail);
            return { kind: 'complete', bytes };
          },
          (error: unknown): ProducerOutcome => {
            if (stop.signal.aborted || signal.aborted) {
              body.destroy();
              return { kind: 'stopped', bytes: sent() };
            }
            body.destroy(error instanceof Error ? error : new Error(String(error)));
            return { kind: 'failed', error };
          },
        );
        return body;
      },
    },
    settle(): Promise<ProducerOutcome> {
      stopCurrent();
      return current;
    },
    sent: () => sentNow(),
  };
}
