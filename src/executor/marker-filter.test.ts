import { describe, expect, it } from 'vitest';
import { MemoryByteWriter } from '../log/byte-writer.js';
import { scriptMarkers } from '../job/script-builder.js';
import { MarkerFilter } from './marker-filter.js';

const markers = scriptMarkers('n0nce');

describe('MarkerFilter', () => {
  it('passes a complete line on at once, holding nothing back', () => {
    const sink = new MemoryByteWriter();
    const f = new MarkerFilter(sink, markers);
    f.write(Buffer.from(markers.start));
    f.write(Buffer.from('started\n'));
    expect(sink.text).toBe('started\n');
    expect(f.started).toBe(true);
  });

  it('holds back only what could begin a marker, and releases it when it is not one', () => {
    const sink = new MemoryByteWriter();
    const f = new MarkerFilter(sink, markers);
    f.write(Buffer.from('ratio 1:'));
    expect(sink.text).toBe('ratio 1');
    f.write(Buffer.from('2\n'));
    expect(sink.text).toBe('ratio 1:2\n');
  });

  it('reads the exit status and removes the marker, split anywhere', () => {
    const text = `${markers.start}out${markers.exitPrefix}042${markers.exitSuffix}`;
    for (let cut = 1; cut < text.length; cut++) {
      const sink = new MemoryByteWriter();
      const f = new MarkerFilter(sink, markers);
      f.write(Buffer.from(text.slice(0, cut)));
      f.write(Buffer.from(text.slice(cut)));
      f.end();
      expect(sink.text).toBe('out');
      expect(f.exitStatus).toBe(42);
    }
  });

  it('leaves marker-like text with another nonce alone, and keeps bytes intact', () => {
    const sink = new MemoryByteWriter();
    const f = new MarkerFilter(sink, markers);
    const other = `::berth-other-exit-000::\n`;
    const utf8 = Buffer.from('héllo ✓\n');
    f.write(Buffer.from(other));
    f.write(utf8.subarray(0, 2));
    f.write(utf8.subarray(2));
    f.end();
    expect(sink.text).toBe(`${other}héllo ✓\n`);
    expect(f.exitStatus).toBeNull();
  });
});
