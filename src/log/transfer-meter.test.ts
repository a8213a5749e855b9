/**
 * gitlab-runner's transfer meter (helpers/meter): its number formats (FormatBytes, FormatByteRate,
 * Go's %.Nf with ties to even), its lines (one now, one per period, the last with a newline) and
 * its floor of a second between lines. The expected texts are what the Go code prints for the
 * same numbers.
 */
import { describe, expect, it } from 'vitest';
import { MemoryByteWriter } from './byte-writer.js';
import { JobLog } from './job-log.js';
import { formatMeterBytes, formatMeterRate, meterTransfer, type MeterClock } from './transfer-meter.js';

const PAD = ' '.repeat(16);

describe('formatMeterBytes (meter.FormatBytes)', () => {
  it.each([
    [0, '0 B'],
    [999, '999 B'],
    [1000, '1.00 KB'],
    [1536, '1.54 KB'],
    [999_999, '1000.00 KB'],
    [1_000_000, '1.00 MB'],
    [157_286_400, '157.29 MB'],
    [3 * 1024 * 1024, '3.15 MB'],
    [5_000_000_000, '5.00 GB'],
    [1_234_567_890_123, '1.23 TB'],
  ])('%d bytes: %s', (bytes, text) => {
    expect(formatMeterBytes(bytes)).toBe(text);
  });

  it('rounds an exact tie to even as Go does (JavaScript toFixed would round it up)', () => {
    // 1125/1000 = 1.125 exactly in binary: Go prints 1.12; 1.375 → 1.38 (8 is even); 1.135 is no
    // exact tie (its double is 1.13500000000000000888...) and goes up in both.
    expect((1.125).toFixed(2)).toBe('1.13');
    expect(formatMeterBytes(1125)).toBe('1.12 KB');
    expect(formatMeterBytes(1375)).toBe('1.38 KB');
    expect(formatMeterBytes(1135)).toBe('1.14 KB');
    expect(formatMeterBytes(2_625_000)).toBe('2.62 MB');
  });
});

describe('formatMeterRate (meter.FormatByteRate)', () => {
  it.each([
    [0, 1, '0 B/s'],
    [512, 1, '512 B/s'],
    [1250, 1, '1.2 KB/s'], // 1.25: a tie, to even
    [1350, 1, '1.4 KB/s'], // 1.35 is no exact tie (1.3500000000000000888)
    [6_200_000, 1, '6.2 MB/s'],
    [10_000_000, 4, '2.5 MB/s'], // 2.5 is exact and no tie at one decimal
    [999, 2, '499 B/s'], // whole bytes per second (Go converts to uint64)
    [1000, 0, '1000.0 GB/s'], // no time yet: divided by a nanosecond (Go's math.Max(1ns, d)): 999,999,999,999 B/s
  ])('%d bytes in %d s: %s', (bytes, seconds, text) => {
    expect(formatMeterRate(bytes, seconds)).toBe(text);
  });
});

/** A clock the test moves by hand; `every` ticks as the time passes. */
class HandClock implements MeterClock {
  private t = 0;
  private timers: Array<{ ms: number; next: number; tick: () => void }> = [];
  periods: number[] = [];
  now(): number {
    return this.t;
  }
  every(ms: number, tick: () => void): () => void {
    this.periods.push(ms);
    const timer = { ms, next: this.t + ms, tick };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((x) => x !== timer);
    };
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.timers.filter((x) => x.next <= end).sort((a, b) => a.next - b.next)[0];
      if (!due) break;
      this.t = due.next;
      due.next += due.ms;
      due.tick();
    }
    this.t = end;
  }
}

function capture(): { log: JobLog; sink: MemoryByteWriter } {
  const sink = new MemoryByteWriter();
  return { log: new JobLog(sink, { traceSections: false }), sink };
}

describe('meterTransfer', () => {
  it('prints a line now, one per period, and the last one with a newline; a closed meter prints no more', () => {
    const { log, sink } = capture();
    const clock = new HandClock();
    let bytes = 0;
    const meter = meterTransfer(log, 2000, 'Uploading cache', 10_000_000, () => bytes, clock);
    bytes = 3_000_000;
    clock.advance(2000);
    bytes = 7_000_000;
    clock.advance(1500);
    bytes = 10_000_000;
    clock.advance(500);
    meter.close();
    meter.close();
    clock.advance(10_000);
    expect(sink.text).toBe(
      [
        `\rUploading cache 0 B/10.00 MB (0 B/s)${PAD}`,
        `\rUploading cache 3.00 MB/10.00 MB (1.5 MB/s)${PAD}`,
        `\rUploading cache 10.00 MB/10.00 MB (2.5 MB/s)${PAD}`,
        `\rUploading cache 10.00 MB/10.00 MB (2.5 MB/s)${PAD}\n`,
      ].join(''),
    );
  });

  it('leaves the total out when it is not known (0), and ticks at least a second apart', () => {
    const { log, sink } = capture();
    const clock = new HandClock();
    const meter = meterTransfer(log, 200, 'Downloading artifacts', 0, () => 512, clock);
    clock.advance(1000);
    meter.close();
    expect(clock.periods).toEqual([1000]);
    expect(sink.text).toBe(
      [`\rDownloading artifacts 512 B (512.0 GB/s)${PAD}`, `\rDownloading artifacts 512 B (512 B/s)${PAD}`, `\rDownloading artifacts 512 B (512 B/s)${PAD}\n`].join(''),
    );
  });

  it('is off at a period of 0: nothing printed, no timer', () => {
    const { log, sink } = capture();
    const clock = new HandClock();
    meterTransfer(log, 0, 'Uploading artifacts', 0, () => 1, clock).close();
    expect(sink.text).toBe('');
    expect(clock.periods).toEqual([]);
  });
});

describe('JobLog.rewrite (the meter\'s open line)', () => {
  it('a line written after an open one starts on a line of its own; a carriage return overwrites it', () => {
    const { log, sink } = capture();
    log.rewrite('\rUploading 1 B');
    log.rewrite('\rUploading 2 B');
    log.println('a line in between');
    log.rewrite('\rUploading 3 B');
    log.raw('\rUploading 4 B\n');
    log.println('next');
    expect(sink.text).toBe('\rUploading 1 B\rUploading 2 B\n\x1b[0Ka line in between\x1b[0;m\n\rUploading 3 B\rUploading 4 B\n\x1b[0Knext\x1b[0;m\n');
  });
});
