import { describe, expect, it } from 'vitest';
import { acquireAll, Slots } from './job-slots.js';

describe('Slots', () => {
  it('never hands out more than the limit, across every limit at once', () => {
    const global = new Slots(2);
    const runner = new Slots(1);
    const a = acquireAll([global, runner]);
    expect(a).not.toBeNull();
    expect(acquireAll([global, runner])).toBeNull();
    expect(global.inUse).toBe(1);
    const other = acquireAll([global, new Slots(0)]);
    expect(other).not.toBeNull();
    expect(acquireAll([global])).toBeNull();
    a!();
    a!();
    expect(runner.inUse).toBe(0);
    expect(global.inUse).toBe(1);
  });

  it('treats 0 as unlimited and wakes waiters on release', async () => {
    const s = new Slots(0);
    for (let i = 0; i < 100; i++) expect(s.tryAcquire()).toBe(true);
    const one = new Slots(1);
    one.tryAcquire();
    const woke = one.changed();
    one.release();
    await woke;
    expect(one.tryAcquire()).toBe(true);
  });
});
