/** InlineServiceLogWriter's lines (gitlab-runner helpers/service/service_log_writer.go). */
import { describe, expect, it } from 'vitest';
import { MemoryByteWriter } from '../../log/byte-writer.js';
import { inlineServiceLines } from './service-logs.js';

const line = (name: string, text: string): string => `\x1b[0;37m[service:${name}] ${text}\x1b[0;m\n`;

describe('inlineServiceLines', () => {
  it('prefixes every line of a piece; a piece without a final newline still ends its line; an empty piece writes nothing', () => {
    const out = new MemoryByteWriter();
    const write = inlineServiceLines('db-postgres', out);
    write(Buffer.from('2026-12-06T08:00:00.000000001Z ready\n'));
    write(Buffer.from('a\n\nb'));
    write(Buffer.from(''));
    write(Buffer.from('\n'));
    expect(out.text).toBe(
      [line('db-postgres', '2026-12-06T08:00:00.000000001Z ready'), line('db-postgres', 'a'), line('db-postgres', ''), line('db-postgres', 'b'), line('db-postgres', '')].join(''),
    );
  });
});
