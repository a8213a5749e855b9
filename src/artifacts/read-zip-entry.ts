/**
 * readZipEntry: streams one zip entry's decoded bytes to `write`, chunk by chunk, and checks the
 * CRC-32 the central directory holds (yauzl checks sizes, not CRCs) BEFORE the last chunk is
 * handed on: a reader of the output never sees a whole file with wrong content. Any read, inflate
 * or CRC failure is a corrupt-archive ArchiveError naming the entry.
 */
import type { Readable } from 'node:stream';
import type { Entry, ZipFile } from 'yauzl';
import { ContentCrc } from './content-crc.js';
import { corruptZip, type ZipArchiveKind } from './corrupt-zip.js';

export interface ZipEntryRef {
  zip: ZipFile;
  entry: Entry;
  /** The entry's stored name, for messages. */
  name: string;
  /** The archive file and its kind, for messages. */
  file: string;
  kind: ZipArchiveKind;
}

export async function readZipEntry(ref: ZipEntryRef, signal: AbortSignal, write: (chunk: Buffer) => Promise<void>): Promise<void> {
  const { zip, entry, name, file, kind } = ref;
  let body: Readable;
  try {
    body = await zip.openReadStreamPromise(entry);
  } catch (err) {
    throw corruptZip(file, kind, name, err);
  }
  const crc = new ContentCrc();
  let held: Buffer | undefined;
  try {
    for await (const chunk of body.iterator({ destroyOnReturn: true })) {
      signal.throwIfAborted();
      const buf = chunk as Buffer;
      crc.update(buf);
      if (held) await write(held);
      held = buf;
    }
  } catch (err) {
    if (signal.aborted) throw err;
    throw corruptZip(file, kind, name, err);
  }
  if (crc.value() !== entry.crc32 >>> 0) {
    throw corruptZip(file, kind, name, new Error(`CRC-32 mismatch: stored ${hex(entry.crc32)}, content ${hex(crc.value())}`));
  }
  if (held) await write(held);
}

function hex(n: number): string {
  return (n >>> 0).toString(16).padStart(8, '0');
}
