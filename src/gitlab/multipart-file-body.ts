/**
 * A multipart/form-data body with exactly one part, the file field `file`, streamed from a local
 * file: what gitlab-runner's artifacts uploader sends (network/gitlab.go
 * createArtifactsContentProvider, Go mime/multipart CreateFormFile). Its length is known up
 * front (framing + file size), so it is sent with Content-Length instead of chunked; the file is
 * opened again for every attempt and never read into memory.
 */
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { FileBlockStream } from '../shared/file-block-stream.js';
import type { StreamBody } from './http-transport.js';

export interface MultipartFileBody {
  contentType: string;
  body: StreamBody;
  /** Bytes of the file itself. */
  fileSize: number;
  /** Bytes of the file the last `open()` has read so far. */
  sent(): number;
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
  let current: FileBlockStream | undefined;
  return {
    contentType,
    fileSize: size,
    body: {
      length: head.length + size + tail.length,
      // Read into reused blocks, released by the transport once the socket has them (sendStream).
      open: () => (current = new FileBlockStream({ path: file, end: size, head, tail })),
    },
    sent: () => current?.fileBytes ?? 0,
  };
}
