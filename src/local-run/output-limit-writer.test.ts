import { describe, expect, it } from 'vitest';
import { MemoryByteWriter } from '../log/byte-writer.js';
import { OutputLimitWriter } from './output-limit-writer.js';

describe('OutputLimitWriter', () => {
  it('passes output through up to the limit, then writes GitLab\'s notice once and drops the rest', () => {
    const sink = new MemoryByteWriter();
    const w = new OutputLimitWriter(sink, 10);
    w.write(Buffer.from('12345'));
    w.write(Buffer.from('67890abc'));
    w.write(Buffer.from('more'));
    w.end();
    expect(sink.text).toBe("1234567890\n\x1b[33;1mJob's log exceeded limit of 10 bytes.\nJob execution will continue but no more output will be collected.\x1b[0;m\n");
    expect(w.exceeded).toBe(true);
    expect(sink.ended).toBe(true);
  });

  it('never splits a UTF-8 character at the cut', () => {
    const sink = new MemoryByteWriter();
    new OutputLimitWriter(sink, 4).write(Buffer.from('abcé!'));
    expect(sink.buffer.subarray(0, 4).toString('utf8')).toBe('abc\n');
  });
});
