import { describe, expect, it } from 'vitest';
import { collectGarbage } from '../../test/support/collect-garbage.js';
import { timeoutSignal, withTimeout } from './abort.js';

const never = new AbortController().signal;

describe('withTimeout', () => {
  it('fires although garbage is collected while it waits', async () => {
    const { signal } = withTimeout(never, 60);
    const fired = new Promise<unknown>((resolve) => signal.addEventListener('abort', () => resolve(signal.reason), { once: true }));
    for (let i = 0; i < 3; i++) {
      collectGarbage();
      await new Promise((r) => setTimeout(r, 10));
    }
    const reason = await fired;
    expect(reason).toBeInstanceOf(Error);
    expect((reason as Error).name).toBe('TimeoutError');
  });

  it('follows the outer signal first when it aborts first', () => {
    const outer = new AbortController();
    const { signal, clear } = withTimeout(outer.signal, 60_000);
    outer.abort(new Error('stop'));
    expect(signal.aborted).toBe(true);
    expect((signal.reason as Error).message).toBe('stop');
    clear();
  });

  it('clear() stops the timer: the signal never aborts', async () => {
    const t = timeoutSignal(20);
    t.clear();
    await new Promise((r) => setTimeout(r, 60));
    expect(t.signal.aborted).toBe(false);
  });
});
