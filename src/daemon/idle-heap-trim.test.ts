import { describe, expect, it } from 'vitest';
import { IdleHeapTrim, type HeapControl } from './idle-heap-trim.js';

const MB = 1024 * 1024;

/**
 * A heap whose committed sizes the test sets: a scavenge brings the young generation down to
 * 1 MB, a full GC both generations (the old one to `oldAfterFullMb`); the next `keepYoung` GCs
 * leave the young generation as it is (V8 judged the allocation rate too high to shrink it).
 */
class TestHeap implements HeapControl {
  young: number;
  old: number;
  scavenges = 0;
  fullGcs = 0;
  keepYoung = 0;

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
    this.shrinkYoung();
  }

  collectAll(): void {
    this.fullGcs++;
    this.shrinkYoung();
    this.old = this.oldAfterFullMb * MB;
  }

  private shrinkYoung(): void {
    if (this.keepYoung > 0) this.keepYoung--;
    else this.young = 1 * MB;
  }
}

function trim(h: HeapControl, delayMs = 5000) {
  const clock = { t: 1_000_000 };
  const lines: string[] = [];
  const t = new IdleHeapTrim(h, { delayMs, now: () => clock.t, cpuMicros: () => 0, log: { debug: (m, f) => lines.push(`${m} ${JSON.stringify(f)}`) } });
  return { t, clock, lines };
}

/** A burst of jobs, then an idle period long enough for the trim (the scavenge that starts it keeps the young generation). */
function burstThenIdle(t: IdleHeapTrim, h: TestHeap, clock: { t: number }): void {
  t.busy();
  h.keepYoung = 1;
  t.idle();
  clock.t += 5000;
  t.idle();
}

describe('IdleHeapTrim', () => {
  it('starts an idle period with a scavenge and trims a young generation V8 kept once idle for the delay, not before', () => {
    const h = new TestHeap(1, 13);
    const { t, clock, lines } = trim(h);
    h.young = 16.8 * MB; // a burst of jobs grew it
    h.old = 18 * MB; // + 5 MB since the start: no full GC
    h.keepYoung = 1; // the burst's allocations still count for V8 at the first scavenge
    t.idle();
    expect(h.scavenges).toBe(1);
    clock.t += 4999;
    t.idle();
    expect(h.scavenges).toBe(1);
    clock.t += 1;
    t.idle();
    expect([h.scavenges, h.fullGcs, h.young]).toEqual([2, 0, 1 * MB]);
    expect(lines).toEqual(['Idle: collected the heap {"gc":"young","heap_mb_before":34.8,"heap_mb_after":19,"cpu_ms":0}']);
  });

  it('no trim when the scavenge that starts the idle period gave the young generation back', () => {
    const h = new TestHeap(16, 13);
    const { t, clock, lines } = trim(h);
    for (let i = 0; i < 30; i++, clock.t += 1000) t.idle();
    expect([h.scavenges, h.fullGcs, lines]).toEqual([1, 0, []]);
  });

  it('a young generation V8 keeps is tried again a delay later, three trims at most per idle period', () => {
    const h = new TestHeap(16, 13);
    const { t, clock } = trim(h);
    h.keepYoung = 1 + 2; // the starting scavenge and the first two trims
    const scavengesAt: number[] = [];
    for (let s = 0; s <= 30; s++, clock.t += 1000) {
      const before = h.scavenges;
      t.idle();
      if (h.scavenges > before) scavengesAt.push(s);
    }
    expect(scavengesAt).toEqual([0, 5, 10, 15]);
    expect(h.young).toBe(1 * MB);
    h.young = 16 * MB; // grows again while idle: no fourth trim in this period
    h.keepYoung = 0;
    for (let i = 0; i < 30; i++, clock.t += 1000) t.idle();
    expect(h.scavenges).toBe(4);
    burstThenIdle(t, h, clock); // a new idle period
    expect(h.scavenges).toBe(6);
  });

  it('gives up after three trims V8 keeps', () => {
    const h = new TestHeap(16, 13);
    const { t, clock } = trim(h);
    h.keepYoung = 100;
    for (let i = 0; i < 60; i++, clock.t += 1000) t.idle();
    expect(h.scavenges).toBe(1 + 3);
  });

  it('a job starting in between restarts the idle period', () => {
    const h = new TestHeap(16, 13);
    const { t, clock } = trim(h);
    h.keepYoung = 2;
    t.idle();
    clock.t += 4000;
    t.busy();
    clock.t += 2000;
    t.idle(); // a new period: its starting scavenge
    expect(h.scavenges).toBe(2);
    clock.t += 4999;
    t.idle();
    expect(h.scavenges).toBe(2);
    clock.t += 1;
    t.idle();
    expect(h.scavenges).toBe(3);
  });

  it('does nothing when the young generation is at its floor and the old one has not grown', () => {
    const h = new TestHeap(1, 13);
    const { t, clock, lines } = trim(h);
    h.young = 2 * MB;
    for (let i = 0; i < 30; i++, clock.t += 1000) t.idle();
    expect([h.scavenges, h.fullGcs, lines.length]).toEqual([0, 0, 0]);
  });

  it('collects the whole heap when the old generation has grown by 10 MB and 10 % since the start or the last full GC', () => {
    const h = new TestHeap(1, 13, 14);
    const { t, clock, lines } = trim(h);
    h.young = 16 * MB;
    h.old = 22.9 * MB; // + 9.9 MB since the start: a scavenge only
    burstThenIdle(t, h, clock);
    expect([h.scavenges, h.fullGcs]).toEqual([2, 0]); // the one that starts the idle period, the trim
    h.young = 16 * MB;
    h.old = 23 * MB; // + 10 MB
    burstThenIdle(t, h, clock);
    expect([h.scavenges, h.fullGcs]).toEqual([3, 1]);
    expect(lines.at(-1)).toBe('Idle: collected the heap {"gc":"full","heap_mb_before":39,"heap_mb_after":15,"cpu_ms":0}');
    h.old = 23.9 * MB; // + 9.9 MB since the full GC (14 MB after it)
    burstThenIdle(t, h, clock);
    expect(h.fullGcs).toBe(1);
    h.old = 24 * MB;
    burstThenIdle(t, h, clock);
    expect(h.fullGcs).toBe(2);
  });

  it('on a large old generation the 10 % rule decides', () => {
    const h = new TestHeap(1, 200);
    const { t, clock } = trim(h, 0);
    h.old = 215 * MB; // + 15 MB, but less than 10 % of 200 MB
    burstThenIdle(t, h, clock);
    expect(h.fullGcs).toBe(0);
    h.old = 221 * MB;
    burstThenIdle(t, h, clock);
    expect(h.fullGcs).toBe(1);
  });
});
