/**
 * readTar: the files of a tar stream (tar-stream, an independent reader) with their content and
 * the time each one's header came out, for tests of the extraction's output. A failure of the
 * stream rejects.
 */
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { extract } from 'tar-stream';

export async function readTar(stream: Readable): Promise<Map<string, { data: Buffer; at: number }>> {
  const out = new Map<string, { data: Buffer; at: number }>();
  const x = extract();
  x.on('entry', (header, body, next) => {
    const at = performance.now();
    const chunks: Buffer[] = [];
    body.on('data', (c: unknown) => chunks.push(c as Buffer));
    body.on('error', () => undefined); // the extraction's failure reaches the pipeline
    body.on('end', () => {
      if (header.type === 'file') out.set(header.name, { data: Buffer.concat(chunks), at });
      next();
    });
  });
  await pipeline(stream, x);
  return out;
}
