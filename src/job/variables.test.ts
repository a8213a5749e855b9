import { describe, expect, it } from 'vitest';
import { InputError } from '../shared/errors.js';
import { plainVariable } from './job-spec.js';
import { expandVariables, MAX_EXPANDED_VARIABLE_CHARS } from './variables.js';

/** V0 = "x"; Vn = "$V(n-1)" ten times: V8 is 10^8 characters once expanded. */
function bomb(levels: number) {
  return [plainVariable('V0', 'x'), ...Array.from({ length: levels }, (_, i) => plainVariable(`V${i + 1}`, `$V${i}`.repeat(10)))];
}

describe('expandVariables', () => {
  it('stops a variable expansion bomb quickly with an input error naming the variable', () => {
    const started = Date.now();
    let error: unknown = null;
    try {
      expandVariables(bomb(8));
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).message).toBe(
      `variable V7: its value expands to more than ${MAX_EXPANDED_VARIABLE_CHARS} characters (through $V6); it looks like a variable expansion bomb`,
    );
    expect(Date.now() - started).toBeLessThan(2_000);
  }, 5_000);

  it('expands ordinary nesting fully', () => {
    const out = expandVariables(bomb(3));
    expect(out.find((v) => v.key === 'V3')!.value).toBe('x'.repeat(1000));
  });
});
