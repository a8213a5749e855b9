/**
 * The transfer meter that TRANSFER_METER_FREQUENCY turns on (gitlab-runner helpers/meter, used by
 * its artifacts-uploader, artifacts-downloader, cache-archiver and cache-extractor): while an
 * archive goes over the network, a line that overwrites itself (a carriage return in front)
 *
 *   \rUploading cache 12.35 MB/157.29 MB (6.2 MB/s)                
 *
 * when the transfer starts, then every period (at least a second), and once more with a newline
 * when it ends. Sizes are in SI units (1 KB = 1000 bytes) as the helper prints them; the total
 * only when it is known. The text goes on the runner's stream of the job log (a label and
 * numbers: nothing to mask). A line berth prints while a meter runs (the streamed upload's file
 * selection, a retry's warning) starts on a line of its own (JobLog.rewrite), where gitlab-runner's
 * helper, writing the meter to stdout and its log to stderr, would glue the two.
 */
import type { JobLog } from './job-log.js';

/** What gitlab-runner's meter prints after the rate (LabelledRateFormat). */
const PADDING = ' '.repeat(16);
/** gitlab-runner's meter ticks at least a second apart. */
const MIN_PERIOD_MS = 1000;

export interface MeterClock {
  /** Milliseconds, monotonic. */
  now(): number;
  /** Calls `tick` every `ms` until the returned function is called. */
  every(ms: number, tick: () => void): () => void;
}

const SYSTEM_CLOCK: MeterClock = {
  now: () => performance.now(),
  every(ms, tick) {
    const timer = setInterval(tick, ms);
    timer.unref();
    return () => clearInterval(timer);
  },
};

export interface MeteredTransfer {
  /** Prints the last line (with its newline); later calls do nothing. */
  close(): void;
}

const NO_METER: MeteredTransfer = { close: () => undefined };

/**
 * Starts a meter for one transfer (one try) when `periodMs` is not 0 (TRANSFER_METER_FREQUENCY
 * off): its first line now, then one per period. `count` says how many bytes have gone so far;
 * `total` is the transfer's size, 0 when it is not known.
 */
export function meterTransfer(
  log: JobLog,
  periodMs: number,
  label: string,
  total: number,
  count: () => number,
  clock: MeterClock = SYSTEM_CLOCK,
): MeteredTransfer {
  if (periodMs === 0) return NO_METER;
  const started = clock.now();
  let closed = false;
  const line = (): string => {
    const done = count();
    const known = total > 0 ? `/${formatMeterBytes(total)}` : '';
    return `\r${label} ${formatMeterBytes(done)}${known} (${formatMeterRate(done, (clock.now() - started) / 1000)})${PADDING}`;
  };
  log.rewrite(line());
  const stop = clock.every(Math.max(MIN_PERIOD_MS, periodMs), () => log.rewrite(line()));
  return {
    close() {
      if (closed) return;
      closed = true;
      stop();
      log.raw(`${line()}\n`);
    },
  };
}

/** gitlab-runner meter.FormatBytes: `999 B`, `1.00 KB`, `157.29 MB`. */
export function formatMeterBytes(bytes: number): string {
  const { div, prefix } = scaleOf(bytes);
  return prefix === '' ? `${bytes} B` : `${goFixed(bytes, div, 2)} ${prefix}B`;
}

/** gitlab-runner meter.FormatByteRate: the bytes per second (whole bytes), `512 B/s`, `6.2 MB/s`. */
export function formatMeterRate(bytes: number, seconds: number): string {
  const rate = Math.floor(bytes / Math.max(1e-9, seconds));
  const { div, prefix } = scaleOf(rate);
  return prefix === '' ? `${rate} B/s` : `${goFixed(rate, div, 1)} ${prefix}B/s`;
}

/** meter's formatBytes: the power of 1000 below `bytes` and its prefix ('' under 1000). */
function scaleOf(bytes: number): { div: number; prefix: string } {
  if (bytes < 1000) return { div: 1, prefix: '' };
  let div = 1000;
  let exp = 0;
  for (let n = Math.floor(bytes / 1000); n >= 1000; n = Math.floor(n / 1000)) {
    div *= 1000;
    exp++;
  }
  return { div, prefix: 'KMGTPE'[exp]! };
}

/**
 * `n / div` with `digits` decimals as Go's `%.Nf` prints the float64 quotient. JavaScript's toFixed
 * agrees except on an exact tie (a quotient exactly halfway between two results, which only a
 * dyadic rational such as 1.125 is): it takes the larger one, Go the even one (1.12).
 */
function goFixed(n: number, div: number, digits: number): string {
  const plain = (n / div).toFixed(digits);
  const scale = 10n ** BigInt(digits);
  const twice = 2n * BigInt(n) * scale;
  const d = BigInt(div);
  if (twice % d !== 0n || (twice / d) % 2n === 0n || !dyadic(BigInt(n), d)) return plain;
  const down = (twice / d - 1n) / 2n;
  const even = down % 2n === 0n ? down : down + 1n;
  const frac = (even % scale).toString().padStart(digits, '0');
  return `${even / scale}.${frac}`;
}

/** Whether n / d has a power of two as its denominator (it is exact in binary floating point). */
function dyadic(n: bigint, d: bigint): boolean {
  let a = n;
  let b = d;
  while (b !== 0n) [a, b] = [b, a % b];
  let den = d / a;
  while (den % 2n === 0n) den /= 2n;
  return den === 1n;
}
