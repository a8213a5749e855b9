import { describe, expect, it } from 'vitest';
import { MemoryByteWriter } from './byte-writer.js';
import { formatMicros, Timestamper } from './timestamper.js';

/** A clock that moves 1 µs per reading from 2021-01-01T01:00:00.020010Z (gitlab-runner's test time). */
function clock(): () => number {
  let t = Date.UTC(2021, 0, 1, 1, 0, 0) * 1000 + 20_010;
  return () => t++;
}

function stamp(writes: (string | Buffer)[], type: 'O' | 'E' = 'O', id = 1): string {
  const sink = new MemoryByteWriter();
  const ts = new Timestamper(sink, type, id, clock());
  for (const w of writes) ts.write(Buffer.from(w));
  ts.end();
  return sink.text;
}

describe('Timestamper (gitlab-runner common/buildlogger/internal/timestamper)', () => {
  it('formats UTC with microseconds', () => {
    expect(formatMicros(Date.UTC(2021, 0, 1, 1, 0, 0) * 1000 + 20_010)).toBe('2021-01-01T01:00:00.020010Z');
    expect(formatMicros(Date.UTC(1999, 11, 31, 23, 59, 59) * 1000 + 999_999)).toBe('1999-12-31T23:59:59.999999Z');
  });

  it('prefixes every line with the time, the stream id and type; a line keeps the time it began at', () => {
    expect(stamp(['hello\nworld\n'])).toBe('2021-01-01T01:00:00.020010Z 01O hello\n2021-01-01T01:00:00.020011Z 01O world\n');
    expect(stamp(['hel', 'lo\nwor', 'ld\n'], 'E', 0)).toBe('2021-01-01T01:00:00.020010Z 00E hello\n2021-01-01T01:00:00.020011Z 00E world\n');
  });

  it('a write with a carriage return and no newline is an entry of its own; the next one continues it (+)', () => {
    expect(stamp(['section_start:1:x\r\x1b[0K', 'Header\n'])).toBe('2021-01-01T01:00:00.020010Z 01O section_start:1:x\r\x1b[0K\n2021-01-01T01:00:00.020011Z 01O+Header\n');
    expect(stamp(['50%\r', '100%\r', 'done\n'])).toBe(
      '2021-01-01T01:00:00.020010Z 01O 50%\r\n2021-01-01T01:00:00.020011Z 01O+100%\r\n2021-01-01T01:00:00.020012Z 01O+done\n',
    );
  });

  it('a partial line over 8 KiB is written out and continued; the end closes a held line with a newline', () => {
    const long = 'x'.repeat(9000);
    expect(stamp([long, 'tail'])).toBe(`2021-01-01T01:00:00.020010Z 01O ${long}\n2021-01-01T01:00:00.020011Z 01O+tail\n`);
    expect(stamp(['no newline'])).toBe('2021-01-01T01:00:00.020010Z 01O no newline\n');
    expect(stamp([])).toBe('');
  });
});
