/**
 * A streaming multipart/form-data reader for the GitLab test server's artifact uploads: the file
 * part goes straight to disk, never whole into memory, so a 200 MB upload costs a few chunks of
 * RAM. Its chunks are written 256 KiB at a time (one writev), not one write per socket read: the
 * server shares the CPU with berth and dockerd in bench/artifacts. Other parts are only named
 * (their bodies are dropped). Follows RFC 7578 / RFC 2046 framing: `--boundary` lines, CRLF,
 * part headers, a blank line, the body, `CRLF--boundary`, and `--` after the last one.
 */
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';

export interface MultipartPart {
  name: string;
  /** Set for file parts. */
  filename?: string;
  size: number;
}

export interface MultipartResult {
  parts: MultipartPart[];
  /** The first part named `fileField` with a filename, stored at `dest`. */
  file?: { filename: string; size: number };
}

export class MultipartError extends Error {}

/** The boundary of a `multipart/form-data; boundary=...` content type, or null. */
export function multipartBoundary(contentType: string | undefined): string | null {
  if (!contentType || !/^multipart\/form-data\s*;/i.test(contentType)) return null;
  const m = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  return m ? (m[1] ?? m[2]!) : null;
}

export async function readMultipart(body: Readable, boundary: string, fileField: string, dest: string): Promise<MultipartResult> {
  const delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  const keep = delimiter.length + 4;
  const parts: MultipartPart[] = [];
  const result: MultipartResult = { parts };
  const handle = await open(dest, 'w', 0o600);
  let state: 'preamble' | 'after-delimiter' | 'headers' | 'body' | 'epilogue' = 'preamble';
  let part: MultipartPart | null = null;
  let toFile = false;
  // A leading CRLF lets the first boundary match the delimiter like every other one.
  let buf: Buffer = Buffer.from('\r\n', 'latin1');

  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const flush = async (): Promise<void> => {
    const chunks = pending;
    pending = [];
    pendingBytes = 0;
    while (chunks.length) {
      let { bytesWritten } = await handle.writev(chunks);
      while (bytesWritten > 0 && chunks.length) {
        const first = chunks[0]!;
        if (bytesWritten >= first.length) {
          bytesWritten -= first.length;
          chunks.shift();
        } else {
          chunks[0] = first.subarray(bytesWritten);
          bytesWritten = 0;
        }
      }
    }
  };
  const emit = async (data: Buffer): Promise<void> => {
    if (!part || data.length === 0) return;
    part.size += data.length;
    if (!toFile) return;
    pending.push(data);
    pendingBytes += data.length;
    if (pendingBytes >= 256 * 1024) await flush();
  };

  const step = async (): Promise<boolean> => {
    switch (state) {
      case 'preamble':
      case 'body': {
        const at = buf.indexOf(delimiter);
        if (at === -1) {
          if (state === 'body' && buf.length > keep) {
            await emit(buf.subarray(0, buf.length - keep));
            buf = buf.subarray(buf.length - keep);
          } else if (state === 'preamble' && buf.length > keep) {
            buf = buf.subarray(buf.length - keep);
          }
          return false;
        }
        if (state === 'body') {
          await emit(buf.subarray(0, at));
          await flush();
          if (toFile) result.file = { filename: part!.filename!, size: part!.size };
          toFile = false;
          part = null;
        }
        buf = buf.subarray(at + delimiter.length);
        state = 'after-delimiter';
        return true;
      }
      case 'after-delimiter': {
        if (buf.length < 2) return false;
        if (buf[0] === 0x2d && buf[1] === 0x2d) {
          state = 'epilogue';
          return false;
        }
        const eol = buf.indexOf('\r\n');
        if (eol === -1) return false;
        // Transport padding (spaces, tabs) may follow the boundary.
        if (!/^[ \t]*$/.test(buf.subarray(0, eol).toString('latin1'))) throw new MultipartError('malformed multipart boundary line');
        buf = buf.subarray(eol + 2);
        state = 'headers';
        return true;
      }
      case 'headers': {
        const end = buf.indexOf('\r\n\r\n');
        if (end === -1) {
          if (buf.length > 16 * 1024) throw new MultipartError('multipart part headers too large');
          return false;
        }
        part = partOf(buf.subarray(0, end).toString('utf8'));
        parts.push(part);
        toFile = part.name === fileField && part.filename !== undefined && result.file === undefined && parts.filter((p) => p.name === fileField).length === 1;
        buf = buf.subarray(end + 4);
        state = 'body';
        return true;
      }
      case 'epilogue':
        buf = Buffer.alloc(0);
        return false;
    }
  };

  try {
    for await (const c of body) {
      const chunk = c as Buffer;
      if ((state as string) === 'body' && buf.length > 0 && buf.length <= keep) {
        // In a body, only a delimiter across the seam needs the kept tail: no copy of the chunk.
        const seam = Buffer.concat([buf, chunk.subarray(0, delimiter.length)]);
        if (seam.indexOf(delimiter) === -1) {
          await emit(buf);
          buf = chunk;
        } else {
          buf = Buffer.concat([buf, chunk]);
        }
      } else {
        buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      }
      while (await step());
    }
    if ((state as string) !== 'epilogue') throw new MultipartError('the multipart body ended before its closing boundary');
  } finally {
    await handle.close();
  }
  return result;
}

function partOf(headerText: string): MultipartPart {
  const disposition = headerText.split('\r\n').find((l) => /^content-disposition\s*:/i.test(l));
  if (!disposition || !/:\s*form-data\b/i.test(disposition)) throw new MultipartError('a multipart part without Content-Disposition: form-data');
  const name = param(disposition, 'name');
  if (name === undefined) throw new MultipartError('a multipart part without a name');
  const filename = param(disposition, 'filename');
  return { name, ...(filename !== undefined ? { filename } : {}), size: 0 };
}

/** A quoted (Go escapes `\` and `"` with a backslash) or bare parameter value. */
function param(header: string, key: string): string | undefined {
  const m = new RegExp(`;\\s*${key}=(?:"((?:[^"\\\\]|\\\\.)*)"|([^;\\s]*))`, 'i').exec(header);
  if (!m) return undefined;
  return m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2];
}
