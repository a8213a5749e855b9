/**
 * ZstdFrameGuard: reads the frame and block headers of a Zstandard stream (RFC 8878) ahead of the
 * decoder and refuses what would make fzstd spend memory or time out of proportion to what it
 * gives back. fzstd allocates the window a frame declares (up to 2 GiB) and moves the whole window
 * after every block, and it does not enforce the 128 KiB block maximum: a few kilobytes could
 * take gigabytes and minutes. Refused here:
 * - a window (or, for a single-segment frame, a content size) above MAX_WINDOW: 32 MiB, the
 *   largest gitlab-runner's encoder uses (klauspost/compress zstd, `slowest`); the zstd tool's
 *   levels 1-19 stay within 8 MiB;
 * - a block larger than the block maximum (min(128 KiB, window)), and reserved block types;
 * - a frame that names a dictionary (fzstd ignores it and would decode wrong bytes; gitlab-runner
 *   never uses one);
 * - more window work than the output justifies: each frame (a window allocated) and each block
 *   (a window moved) costs its window size, and the total may not pass 512 times the bytes
 *   decoded plus 256 MiB. Encoders write full blocks (128 KiB; 64 KiB with a 4 MiB window at
 *   gitlab-runner's `fastest`) but a frame's last, so they stay near 256 times their output;
 *   many tiny blocks or frames, each a full window move or allocation in fzstd, are cut short.
 * This bounds what honest-looking headers can cost. It cannot see inside a compressed block:
 * fzstd does not check that a block's sequences fit the block, and a crafted block of a few bytes
 * can keep it busy for seconds. Zstandard is therefore decoded only from stores only runners
 * write (LocalArchive.writtenByRunners), never from a repository or from GitLab's artifacts.
 * The stream's end, checksums and block contents are left to the decoder.
 */

export const MAX_WINDOW = 32 * 1024 * 1024;
const MAX_BLOCK = 128 * 1024;
const WORK_PER_BYTE = 512;
const WORK_SLACK = 256 * 1024 * 1024;
const ZSTD_MAGIC = 0xfd2fb528;

type State = 'magic' | 'skippable-size' | 'frame-header' | 'header-rest' | 'block-header' | 'skip';

export class ZstdFrameGuard {
  private state: State = 'magic';
  /** Header bytes gathered across slices. */
  private head: number[] = [];
  private need = 4;
  /** Bytes to pass over (block contents and checksums, skippable frames) before the next header. */
  private skip = 0;
  private afterSkip: 'magic' | 'block-header' = 'magic';
  private single = false;
  private fcsBytes = 0;
  private checksum = false;
  private window = 0;
  private work = 0;

  /** Checks the headers in `bytes`, the next bytes of the stream; `decoded`: bytes the decoder gave so far. */
  check(bytes: Uint8Array, decoded: number): void {
    for (let i = 0; i < bytes.length; ) {
      if (this.state === 'skip') {
        const n = Math.min(this.skip, bytes.length - i);
        this.skip -= n;
        i += n;
        if (this.skip === 0) this.expect(this.afterSkip);
        continue;
      }
      this.head.push(bytes[i++]!);
      if (this.head.length < this.need) continue;
      const h = this.head;
      this.head = [];
      this.header(h, decoded);
    }
  }

  private header(h: number[], decoded: number): void {
    switch (this.state) {
      case 'magic': {
        const magic = (h[0]! | (h[1]! << 8) | (h[2]! << 16) | (h[3]! << 24)) >>> 0;
        if (magic === ZSTD_MAGIC) return this.expect('frame-header', 1);
        if ((magic & 0xfffffff0) >>> 0 === 0x184d2a50) return this.expect('skippable-size', 4);
        throw new Error('invalid zstd data: a frame does not begin with the zstd magic number');
      }
      case 'skippable-size':
        return this.passOver(h[0]! + h[1]! * 2 ** 8 + h[2]! * 2 ** 16 + h[3]! * 2 ** 24, 'magic');
      case 'frame-header': {
        const fhd = h[0]!;
        this.single = ((fhd >> 5) & 1) === 1;
        this.checksum = ((fhd >> 2) & 1) === 1;
        this.fcsBytes = [this.single ? 1 : 0, 2, 4, 8][fhd >> 6]!;
        const dictBytes = [0, 1, 2, 4][fhd & 3]!;
        if (dictBytes > 0) throw new Error('a zstd frame made with a dictionary, which berth does not decode (gitlab-runner never uses one)');
        return this.expect('header-rest', (this.single ? 0 : 1) + dictBytes + this.fcsBytes);
      }
      case 'header-rest': {
        if (this.single) {
          let fcs = 0;
          for (let k = 0; k < this.fcsBytes; k++) fcs += h[h.length - this.fcsBytes + k]! * 2 ** (8 * k);
          this.window = this.fcsBytes === 2 ? fcs + 256 : fcs;
        } else {
          const base = 2 ** (10 + (h[0]! >> 3));
          this.window = base + (base / 8) * (h[0]! & 7);
        }
        if (this.window > MAX_WINDOW) {
          throw new Error(`a zstd frame declares a window of ${this.window} bytes, more than the 32 MiB (${MAX_WINDOW}) berth decodes (gitlab-runner's encoder uses at most 32 MiB)`);
        }
        this.count(decoded);
        return this.expect('block-header');
      }
      case 'block-header': {
        const b = h[0]! | (h[1]! << 8) | (h[2]! << 16);
        const last = (b & 1) === 1;
        const type = (b >> 1) & 3;
        const size = b >>> 3;
        const max = Math.min(MAX_BLOCK, this.window);
        if (type === 3) throw new Error('invalid zstd data: a block of the reserved type');
        if (size > max) throw new Error(`invalid zstd data: a block of ${size} bytes, more than the block maximum of ${max}`);
        this.count(decoded);
        // An RLE block stores one byte; a frame's last block is followed by its checksum, if any.
        return this.passOver((type === 1 ? 1 : size) + (last && this.checksum ? 4 : 0), last ? 'magic' : 'block-header');
      }
      default:
        throw new Error(`unexpected zstd header state ${this.state}`);
    }
  }

  private expect(state: State, need = state === 'magic' ? 4 : 3): void {
    this.state = state;
    this.need = need;
  }

  private passOver(bytes: number, after: 'magic' | 'block-header'): void {
    if (bytes === 0) return this.expect(after);
    this.skip = bytes;
    this.afterSkip = after;
    this.state = 'skip';
  }

  /** A window allocated (a frame) or moved (a block) in fzstd. */
  private count(decoded: number): void {
    this.work += this.window;
    if (this.work > WORK_SLACK + WORK_PER_BYTE * decoded) {
      throw new Error(`a zstd stream that moves ${this.work} bytes of window for ${decoded} bytes of output: berth refuses streams of tiny blocks or frames`);
    }
  }
}
