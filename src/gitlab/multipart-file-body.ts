/**
 * A multipart/form-data body with exactly one part, the file field `file`, streamed from a local
 * file: what gitlab-runner's artifacts uploader sends (network/gitlab.go
 * createArtifactsContentProvider, Go mime/multipart CreateFormFile). Its length is known up
 * front (framing + file size), so it is sent with Content-Length instead of chunked; the file is
 * opened again for every attempt and never read into memory.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { StreamBody } from './http-transport.js';

export interface MultipartFileBody {
  contentType: string;
  body: StreamBody;
  /** Bytes of the file itself. */
  fileSize: number;
}

/** Go's mime/multipart escapeQuotes: `\` and `"` get a backslash. */
function escapeQuotes(s: string): string {
  return s.replace(/[\\"]/g, (c) => `\\${c}`);
}

/** The framing of a one-part multipart/form-data body: its content type, what goes before the content and after it. */
export function multipartFraming(filename: string, field = 'file'): { contentType: string; head: Buffer; tail: Buffer } {
  // Go's multipart writer: 30 random bytes in hex.
  const boundary = randomBytes(30).toString('hex');
  const head = Buffer.from(
    `--${boundary}\r\n` +
      `Content-Disposition: form-data; name="${escapeQuotes(field)}"; filename="${escapeQuotes(filename)}"\r\n` +
      'Content-Type: application/octet-stream\r\n\r\n',
    'utf8',
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`, 'utf8');
  return { contentType: `multipart/form-data; boundary=${boundary}`, head, tail };
}

export async function multipartFileBody(file: string, filename: string, field = 'file'): Promise<MultipartFileBody> {
  const { size } = await stat(file);
  const { contentType, head, tail } = multipartFraming(filename, field);
  return {
    contentType,
    fileSize: size,
    body: {
      length: head.length + size + tail.length,
      open: () => Readable.from(parts(head, file, size, tail), { objectMode: false }),
    },
  };
}

async function* parts(head: Buffer, file: string, size: number, tail: Buffer): AsyncGenerator<Buffer> {
  yield head;
  if (size > 0) {
    // `end` bounds the read to the size announced in Content-Length, should the file grow.
    let sent = 0;
    for await (const chunk of createReadStream(file, { start: 0, end: size - 1 })) {
      sent += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
    if (sent !== size) throw new Error(`${file} shrank while it was being uploaded (${sent} of ${size} bytes)`);
  }
  yield tail;
}
