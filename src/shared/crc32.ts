/**
 * CRC-32 (IEEE 802.3, the polynomial Go's `hash/crc32.IEEE` and zlib use), incremental.
 * GitLab checks a job trace with it: `crc32:%08x` over every byte of the trace.
 *
 *   const c = new Crc32(); c.update(a); c.update(b); c.hex() === crc32Hex(Buffer.concat([a, b]))
 */

function makeTable(): Uint32Array {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}

export class Crc32 {
  private crc = 0xffffffff;
  /** 1 KiB, built per instance (2,048 steps): cheaper than any shared cache is worth. */
  private readonly t = makeTable();

  update(data: Uint8Array): this {
    let c = this.crc;
    const t = this.t;
    for (let i = 0; i < data.length; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
    this.crc = c;
    return this;
  }

  /** The checksum of everything passed to update() so far. */
  value(): number {
    return (this.crc ^ 0xffffffff) >>> 0;
  }

  /** Eight lowercase hex digits, zero-padded (Go's `%08x`). */
  hex(): string {
    return this.value().toString(16).padStart(8, '0');
  }
}

export function crc32(data: Uint8Array): number {
  return new Crc32().update(data).value();
}

/** `crc32:%08x`, the form GitLab's `output.checksum` uses. */
export function traceChecksum(data: Uint8Array): string {
  return `crc32:${new Crc32().update(data).hex()}`;
}
