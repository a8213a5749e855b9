/**
 * sniffArchive: an archive's format from its first bytes, as gitlab-runner's downloader and
 * cache extractor decide how to open a file (commands/helpers/artifacts_downloader.go,
 * openArchive: zstd → tarzstd, gzip → gzip, anything else → zip). 'unknown' is left to the
 * caller, which may still try zip.
 */
import { open } from 'node:fs/promises';

export type ArchiveKind = 'zip' | 'gzip' | 'zstd' | 'unknown';

/** The bytes sniffArchive reads. */
export const SNIFFED_BYTES = 4;

export async function sniffArchive(file: string): Promise<ArchiveKind> {
  const fh = await open(file, 'r');
  try {
    const head = Buffer.alloc(SNIFFED_BYTES);
    const { bytesRead } = await fh.read(head, 0, SNIFFED_BYTES, 0);
    return kindOf(head.subarray(0, bytesRead));
  } finally {
    await fh.close();
  }
}

function kindOf(b: Buffer): ArchiveKind {
  // PK\3\4 (a local file header), PK\5\6 (an empty zip's end record), PK\7\8 (spanned).
  if (b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && [0x0304, 0x0506, 0x0708].includes((b[2]! << 8) | b[3]!)) return 'zip';
  if (b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  if (b.length >= 4 && b.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  return 'unknown';
}
