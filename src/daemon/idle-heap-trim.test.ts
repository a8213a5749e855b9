import { describe, expect, it } from 'vitest';
import { IdleHeapTrim, type HeapControl } from './idle-heap-trim.js';

const MB = 1024 * 1024;

/**
 * A heap whose committed sizes the test sets: a scavenge brings the young generation down to
 * 1 MB, a full GC both generations (the old one to `oldAfterFullMb`).
 */
class TestHeap implements HeapControl {
  young: number;
  old: number;
  scavenges = 0;
  fullGcs = 0;

  constructor(
    youngMb: number,
    oldMb: number,
    private readonly oldAfterFullMb = oldMb,
  ) {
    this.young = youngMb * MB;
    this.old = oldMb * MB;
  }

  youngBytes(): number {
    return this.young;
  }

  oldBytes(): number {
    return this.old;
  }

  collectYoung(): void {
    this.scavenges++;
    this.young = 1 * MB;
  }

  collectAll(): void {
    this.fullGcs++;
    this.young = 1 * MB;
    this.old = this.oldAfterFullMb * MB;
  }
}

function trim(h: HeapControl, delayMs = 5000) {
  const clock = { t: 1_000_000 };
  const lines: string[] = [];
  const t = new IdleHeapTrim(h, { delayMs, now: () => clock.t, cpuMicros: () => 0, log: { debug: (m, f) => lines.push(`${m} ${JSON.stringify(f)}`) } });
  return { t, clock, lines };
}

/** A burst of jobs, then an idle period long enough for the trim. */
function burstThenIdle(t: IdleHeapTrim, clock: { t: number }): void {
  t.busy();
  t.idle();
  clock.t += 5000;
  t.idle();
}

describe('IdleHeapTrim', () => {
  it('scavenges a grown young generation once idle for the delay, not before', () => {
    const h = new TestHeap(1, 13);
    const { t, clock, lines } = trim(h);
    h.young = 16.8 * MB; // a burst of jobs grew it
    h.old = 18 * MB; // + 5 MB since the start: no full GC
    t.idle();
    clock.t += 4999;
    t.idle();
    expect(h.scavenges).toBe(0);
    clock.t += 1;
    t.idle();
    expect([h.scavenges, h.fullGcs]).toEqual([1, 0]);
    expect(lines).toEqual(['Idle: collected the heap {"gc":"young","heap_mb_before":34.8,"heap_mb_after":19,"cpu_ms":0}']);
  });

  it('trims once per idle period, whatever the heap does meanwhile', () => {
    const h = new TestHeap(16, 13);
    const { t, clock } = trim(h);
    for (let i = 0; i < 30; i++, clock.t += 1000) {
      t.idle();
      h.young = 16 * MB; // V8 did not shrink it (allocation still high): no scavenge after each request
    }
    expect(h.scavenges).toBe(1);
  });

  it('a job starting in between restarts the idle period', () => {
    const h = new TestHeap(16, 13);
    const { t, clock } = trim(h);
    t.idle();
    clock.t += 4000;
    t.busy();
    clock.t += 2000;
    t.idle();
    expect(h.scavenges).toBe(0);
    clock.t += 5000;
    t.idle();
    expect(h.scavenges).toBe(1);
  });

  it('does nothing when the young generation is at its floor and the old one has not grown', () => {
    const h = new TestHeap(1, 13);
    const { t, clock, lines } = trim(h);
    h.young = 2 * MB;
    burstThenIdle(t, clock);
    expect([h.scavenges, h.fullGcs, lines.length]).toEqual([0, 0, 0]);
  });

  it('collects the whole heap when the old generation has grown by 10 MB and 10 % since the start or the last full GC', () => {
    const h = new TestHeap(1, 13, 14);
    const { t, clock, lines } = trim(h);
    h.young = 16 * MB;
    h.old = 22.9 * MB; // + 9.9 MB since the start: a scavenge only
    burstThenIdle(t, clock);
    expect([h.scavenges, h.fullGcs]).toEqual([1, 0]);
    h.young = 16 * MB;
    h.old = 23 * MB; // + 10 MB
    burstThenIdle(t, clock);
    expect([h.scavenges, h.fullGcs]).toEqual([1, 1]);
    expect(lines.at(-1)).toBe('Idle: collected the heap {"gc":"full","heap_mb_before":39,"heap_mb_after":15,"cpu_ms":0}');
    h.old = 23.9 * MB; // + 9.9 MB since the full GC (14 MB after it)
    burstThenIdle(t, clock);
    expect(h.fullGcs).toBe(1);
    h.old = 24 * MB;
    burstThenIdle(t, clock);
    expect(h.fullGcs).toBe(2);
  });

  it('on a large old generation the 10 % rule decides', () => {
    const h = new TestHeap(1, 200);
    const { t, clock } = trim(h, 0);
    h.old = 215 * MB; // + 15 MB, but less than 10 % of 200 MB
    burstThenIdle(t, clock);
    expect(h.fullGcs).toBe(0);
    h.old = 221 * MB;
    burstThenIdle(t, clock);
    expect(h.fullGcs).toBe(1);
  });
});
