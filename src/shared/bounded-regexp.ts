/**
 * Regular expressions a repository writes (`rules:if` with `=~`, `only:refs`, `spec:inputs`
 * regex, `coverage:`), run over text it may also write, under a time limit. GitLab runs them
 * with RE2, which cannot backtrack; a JavaScript RegExp can, for ever (`^(a+)+$` on forty `a`s
 * and a `!`). So the match runs as a `vm` script with a timeout, which V8 interrupts wherever
 * the match is; only berth's own code (`code`) runs there, the pattern and the text are data.
 *
 * A timeout costs a watchdog thread per call (~0.1-0.3 ms), so the answers of `testWithin` are
 * kept: rules test the same pattern against the same variable for many jobs.
 */
import { createContext, Script, type Context } from 'node:vm';
import { BerthError } from './errors.js';

/** The time one match may take in rules and inputs. */
export const REGEXP_TIME_LIMIT_MS = 1_000;

export class RegExpTimeoutError extends BerthError {
  constructor(
    readonly pattern: string,
    readonly limitMs: number,
    textLength: number,
  ) {
    super(
      'input_error',
      `the regular expression /${pattern}/ took longer than ${limitMs / 1000} s on a text of ${textLength} characters and was stopped ` +
        '(GitLab runs it with RE2, which cannot backtrack; berth runs it as a JavaScript one): simplify it, e.g. no repeated group that repeats itself as in (a+)+',
    );
  }
}

const scripts = new Map<string, Script>();
let context: Context | undefined;

/**
 * Runs berth's `code` with `globals` as its variables, stopped after `limitMs`: a
 * RegExpTimeoutError naming `pattern` then. Any other error of the script is thrown as it is.
 */
export function runWithin(code: string, globals: Record<string, unknown>, limitMs: number, pattern: string, textLength: number): unknown {
  let script = scripts.get(code);
  if (!script) {
    script = new Script(code);
    scripts.set(code, script);
  }
  context ??= createContext({});
  const ctx = context;
  Object.assign(ctx, globals);
  try {
    return script.runInContext(ctx, { timeout: limitMs });
  } catch (err) {
    if ((err as { code?: unknown } | null)?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw new RegExpTimeoutError(pattern, limitMs, textLength);
    throw err;
  } finally {
    for (const key of Object.keys(globals)) delete (ctx as Record<string, unknown>)[key];
  }
}

const answers = new Map<string, boolean>();
const MAX_ANSWERS = 10_000;
/** Longer texts are matched again each time rather than kept. */
const MAX_KEPT_TEXT = 4096;

/** `re.test(text)` (re without the g or y flag), stopped after `limitMs`. */
export function testWithin(re: RegExp, text: string, limitMs = REGEXP_TIME_LIMIT_MS): boolean {
  const key = text.length <= MAX_KEPT_TEXT ? JSON.stringify([re.flags, re.source, text]) : null;
  const known = key === null ? undefined : answers.get(key);
  if (known !== undefined) return known;
  const answer = runWithin('re.test(text)', { re, text }, limitMs, re.source, text.length) === true;
  if (key !== null) {
    if (answers.size >= MAX_ANSWERS) answers.clear();
    answers.set(key, answer);
  }
  return answer;
}
