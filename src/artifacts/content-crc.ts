/**
 * ContentCrc: the CRC-32 of archive content (zip entries, gzip members), with zlib's native
 * crc32 where Node has it (20.15+, 22.2+; about ten times faster) and shared/crc32.ts elsewhere
 * (berth supports Node >= 20). Same polynomial and result either way.
 */
import * as zlib from 'node:zlib';
import { Crc32 } from '../shared/crc32.js';

type NativeCrc32 = (data: Uint8Array, value?: number) => number;

export class ContentCrc {
  private readonly native: NativeCrc32 | undefined = (zlib as { crc32?: NativeCrc32 }).crc32;
  private readonly js = this.native ? undefined : new Crc32();
  private crc = 0;

  update(data: Uint8Array): this {
    if (this.native) this.crc = this.native(data, this.crc);
    else this.js!.update(data);
    return this;
  }

  value(): number {
    return this.js ? this.js.value() : this.crc >>> 0;
  }
}
