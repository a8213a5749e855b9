/**
 * zipOf: a zip made by yazl (an independent writer, not berth's) from named buffers, for tests
 * of the readers. `zip64` forces the zip64 end records; `comment` is the archive's comment.
 */
import yazl from 'yazl';

export async function zipOf(
  files: ReadonlyArray<{ name: string; data: Buffer; compress?: boolean }>,
  opts: { zip64?: boolean; comment?: string } = {},
): Promise<Buffer> {
  const zip = new yazl.ZipFile();
  for (const f of files) zip.addBuffer(f.data, f.name, { compress: f.compress ?? true, mtime: new Date(Date.UTC(2026, 0, 1)) });
  zip.end({ forceZip64Format: opts.zip64 === true, comment: opts.comment ?? '' });
  const chunks: Buffer[] = [];
  for await (const c of zip.outputStream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
