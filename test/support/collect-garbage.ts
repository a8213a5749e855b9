/**
 * V8's full garbage collection for tests, without --expose-gc on the command line: the flag is
 * set for the moment a fresh context is made and unset after (the rest of the process sees no
 * `gc` global). Taken once, on first use.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let gc: (() => void) | undefined;

export function collectGarbage(): void {
  if (!gc) {
    setFlagsFromString('--expose-gc');
    try {
      gc = runInNewContext('gc') as () => void;
    } finally {
      setFlagsFromString('--no-expose-gc');
    }
  }
  gc();
}
