import { describe, expect, it } from 'vitest';
import { IdleHeapTrim, type HeapControl } from './idle-heap-trim.js';

const MB = 1024 * 1024;

/** A heap whose committed size the test sets; a collection brings it down to `afterGc`. */
class TestHeap implements HeapControl {
  committed: number;
  collections = 0;

  constructor(
    committedMb: number,
    private readonly afterGcMb: number,
  ) {
    this.committed = committedMb * MB;
  }

  committedBytes(): number {
    return this.committed;
  }

  collect(): void {
    this.collections++;
    this.committed = this.afterGcMb * MB;
  }
}

const heap = (committedMb: number, afterGcMb: number): TestHeap => new TestHeap(committedMb, afterGcMb);

function trim(h: HeapControl, delayMs = 5000) {
  const clock = { t: 1_000_000 };
  const lines: string[] = [];
  const t = new IdleHeapTrim(h, { delayMs, now: () => clock.t, cpuMicros: () => 0, log: { debug: (m, f) => lines.push(`${m} ${JSON.stringify(f)}`) } });
  return { t, clock, lines };
}

describe('IdleHeapTrim', () => {
  it('collects once the daemon has been idle for the delay, not before', () => {
    const h = heap(34, 19);
    const { t, clock, lines } = trim(h);
    t.idle();
    clock.t += 4999;
    t.idle();
    expect(h.collections).toBe(0);
    clock.t += 1;
    t.idle();
    expect(h.collections).toBe(1);
    expect(lines).toEqual(['Idle: collected the heap {"heap_mb_before":34,"heap_mb_after":19,"cpu_ms":0}']);
  });

  it('collects once per idle period: later empty answers find no growth', () => {
    const h = heap(34, 19);
    const { t, clock } = trim(h);
    for (let i = 0; i < 30; i++, clock.t += 1000) t.idle();
    expect(h.collections).toBe(1);
  });

  it('a job starting in between restarts the idle period', () => {
    const h = heap(34, 19);
    const { t, clock } = trim(h);
    t.idle();
    clock.t += 4000;
    t.busy();
    clock.t += 2000;
    t.idle();
    expect(h.collections).toBe(0);
    clock.t += 5000;
    t.idle();
    expect(h.collections).toBe(1);
  });

  it('collects again only when the heap has grown by 10 MB and 10 % since the last collection', () => {
    const h = heap(34, 19);
    const { t, clock } = trim(h);
    const idlePeriod = (): void => {
      t.busy();
      t.idle();
      clock.t += 5000;
      t.idle();
    };
    idlePeriod();
    expect(h.collections).toBe(1);
    h.committed = 28 * MB; // + 9 MB since 19: not enough
    idlePeriod();
    expect(h.collections).toBe(1);
    h.committed = 29 * MB; // + 10 MB
    idlePeriod();
    expect(h.collections).toBe(2);
  });

  it('on a large heap the 10 % rule decides', () => {
    const h = heap(400, 200);
    const { t, clock } = trim(h, 0);
    t.idle();
    t.idle();
    expect(h.collections).toBe(1);
    h.committed = 215 * MB; // + 15 MB, but less than 10 % of 200 MB
    t.busy();
    t.idle();
    clock.t += 1;
    t.idle();
    expect(h.collections).toBe(1);
    h.committed = 221 * MB;
    t.busy();
    t.idle();
    t.idle();
    expect(h.collections).toBe(2);
  });
});
