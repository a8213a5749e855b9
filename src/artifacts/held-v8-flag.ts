/**
 * HeldV8Flag: a V8 flag that is on while at least one holder holds it (the archive writers and
 * extractors tune V8's heap this way: limitYoungGeneration, growOldGeneration). V8's flags are
 * process-wide, so two archives at once share one setting; `off` comes back after the last
 * holder releases. Making one sets nothing: the flag changes on the first hold.
 */
import { setFlagsFromString } from 'node:v8';

export class HeldV8Flag {
  private holders = 0;

  constructor(
    private readonly on: string,
    private readonly off: string,
  ) {}

  /** Sets `on` (again, if someone else holds it) until the returned function is called (once is enough). */
  hold(): () => void {
    this.holders++;
    setFlagsFromString(this.on);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      if (--this.holders === 0) setFlagsFromString(this.off);
    };
  }

  /** Sets `on` again if someone holds it (after V8 reset it, as it does for a new isolate). */
  renew(): void {
    if (this.holders > 0) setFlagsFromString(this.on);
  }

  /** How many hold it now. */
  get count(): number {
    return this.holders;
  }
}
