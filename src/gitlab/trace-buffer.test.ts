import { describe, expect, it } from 'vitest';
import { traceChecksum } from '../shared/crc32.js';
import { TraceBuffer } from './trace-buffer.js';
import { outputLimitNotice } from '../log/output-limit.js';

function buffer(limitBytes = 1024 * 1024): TraceBuffer {
  return new TraceBuffer({ limitBytes });
}

describe('TraceBuffer', () => {
  it('stores bytes on disk and reads any range back; checksum and size cover every byte', async () => {
    const b = buffer();
    const data = Buffer.from('0123456789'.repeat(10_000));
    for (let i = 0; i < data.length; i += 333) b.append(data.subarray(i, i + 333));
    expect(b.size).toBe(data.length);
    expect(b.checksum()).toBe(traceChecksum(data));
    expect((await b.read(12_345, 100)).equals(data.subarray(12_345, 12_445))).toBe(true);
    expect((await b.read(data.length - 5, 100)).toString()).toBe('56789');
    expect((await b.read(data.length + 5, 100)).length).toBe(0);
    b.close();
  });

  it('repairs invalid UTF-8 and keeps characters split across writes whole', async () => {
    const b = buffer();
    const euro = Buffer.from('€', 'utf8');
    b.append(Buffer.from([0x61, 0xff, 0x62]));
    b.append(euro.subarray(0, 1));
    b.append(euro.subarray(1));
    b.append(euro.subarray(0, 2)); // never completed
    b.finish();
    const text = (await b.read(0, 100)).toString('utf8');
    expect(text).toBe('a\uFFFDb€\uFFFD');
    b.close();
  });

  it('cuts at the output limit without splitting a character, appends the notice once, drops the rest', async () => {
    const b = buffer(10);
    b.append(Buffer.from('12345678'));
    b.append(Buffer.from('€€')); // 6 bytes: only 2 fit, and they would split the €
    b.append(Buffer.from('more output'));
    b.finish();
    const expected = Buffer.concat([Buffer.from('12345678'), Buffer.from(outputLimitNotice(10))]);
    expect((await b.read(0, 1000)).equals(expected)).toBe(true);
    expect(b.limitExceeded).toBe(true);
    expect(b.droppedBytes).toBe(6 + 11);
    expect(b.checksum()).toBe(traceChecksum(expected));
    b.close();
  });

  it('writes the notice when a write lands exactly on the limit (gitlab-runner\'s >=)', async () => {
    const b = buffer(4);
    b.append(Buffer.from('abcd'));
    expect((await b.read(0, 1000)).toString()).toBe(`abcd${outputLimitNotice(4)}`);
    b.close();
  });

  it('drops what is written after finish()', () => {
    const b = buffer();
    b.append(Buffer.from('a'));
    b.finish();
    b.append(Buffer.from('b'));
    expect(b.size).toBe(1);
    expect(b.droppedBytes).toBe(1);
    b.close();
  });
});
