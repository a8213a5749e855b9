/**
 * Counting limits for `berth run`: the global `concurrent`, each runner's `limit` (0 = none)
 * and `request_concurrency`. A slot is taken before a job request goes out, so the limits can
 * never be exceeded, and given back when the request brings no job or the job ends.
 */
export class Slots {
  private used = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(private max: number) {}

  /** Infinity when max is 0 (unlimited). */
  get capacity(): number {
    return this.max > 0 ? this.max : Infinity;
  }

  get inUse(): number {
    return this.used;
  }

  setMax(max: number): void {
    this.max = max;
    this.wake();
  }

  tryAcquire(): boolean {
    if (this.used >= this.capacity) return false;
    this.used++;
    return true;
  }

  release(): void {
    if (this.used > 0) this.used--;
    this.wake();
  }

  /** Resolves the next time a slot is released (or the limit grows). */
  changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

/** Takes one slot from every limit, or none. */
export function acquireAll(slots: readonly Slots[]): (() => void) | null {
  const taken: Slots[] = [];
  for (const s of slots) {
    if (!s.tryAcquire()) {
      taken.forEach((t) => t.release());
      return null;
    }
    taken.push(s);
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    taken.forEach((t) => t.release());
  };
}
