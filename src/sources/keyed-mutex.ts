/** One holder per key at a time, in arrival order (e.g. one job per reusable git repository). */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  /** Resolves with the unlock function once the key is free. Unlocking twice is harmless. */
  async lock(key: string): Promise<() => void> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    await previous;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    };
  }
}
