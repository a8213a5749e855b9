import { describe, expect, it } from 'vitest';
import { EventLoopTurns } from './event-loop-turns.js';

describe('EventLoopTurns', () => {
  it('asks for a turn once per `bytes` counted, and none in between', () => {
    const turns = new EventLoopTurns(100);
    const asked = [40, 40, 40, 99, 1, 250, 0].map((n) => turns.add(n) !== undefined);
    expect(asked).toEqual([false, false, true, false, true, true, false]);
  });

  it('its promise resolves only after the event loop has run I/O and immediates queued before it', async () => {
    const turns = new EventLoopTurns(1);
    const seen: string[] = [];
    setImmediate(() => seen.push('immediate'));
    await Promise.resolve().then(() => seen.push('microtask'));
    const turn = turns.add(1);
    expect(seen).toEqual(['microtask']);
    await turn;
    expect(seen).toEqual(['microtask', 'immediate']);
  });

  it('a loop of synchronous work lets a socket-like callback in at every turn', async () => {
    const turns = new EventLoopTurns(1024);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    try {
      const at: number[] = [];
      for (let i = 0; i < 64; i++) {
        const busyUntil = performance.now() + 1;
        while (performance.now() < busyUntil) {
          /* synchronous work */
        }
        const turn = turns.add(512);
        if (turn) {
          await turn;
          at.push(ticks);
        }
      }
      expect(at).toHaveLength(32);
      // The interval (a timer: run in the event loop, never in a microtask) got in between.
      expect(at.at(-1)).toBeGreaterThan(at[0]!);
    } finally {
      clearInterval(timer);
    }
  });
});
