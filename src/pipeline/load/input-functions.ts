/**
 * GitLab's interpolation functions for CI/CD inputs (`$[[ inputs.x | f1 | f2 ]]`), applied left
 * to right, at most three (GitLab's Interpolation::Block MAX_FUNCTIONS and FunctionsStack; the
 * error texts are GitLab's):
 *
 *   expand_vars          `$VAR`, `${VAR}`, `%VAR%` replaced by the variables an `include` can use,
 *                        one level (ExpandVariables.expand_existing: an unknown name stays as written)
 *   truncate(o,l)        `l` characters from character `o` (Ruby's `str[o, l].to_s`)
 *   posix_escape         Ruby's Shellwords.shellescape: a backslash before every character outside
 *                        [A-Za-z0-9_\-.,:+/@\n], a newline as '\n' in single quotes, '' for ""
 *
 * Each takes a string; another type is an error, as in GitLab.
 */
import type { YamlValue } from './yaml-value.js';

export type InputVariableLookup = (name: string) => string | undefined;

const MAX_FUNCTIONS = 3;
const TRUNCATE = /^truncate\(\s*(\d+)\s*,\s*(\d+)\s*\)?$/;
const VARIABLE = /\$([a-zA-Z_][a-zA-Z0-9_]*)|\$\{([a-zA-Z_][a-zA-Z0-9_]*)\}|%([a-zA-Z_][a-zA-Z0-9_]*)%/g;

type Step = (value: string) => string;

/** `functions` is the text after the input's name, from its first `|`. */
export function applyInputFunctions(value: YamlValue, functions: string, lookup: InputVariableLookup): { value: YamlValue } | { error: string } {
  const names = functions.split('|').slice(1).map((f) => f.trim());
  if (names.length > MAX_FUNCTIONS) return { error: 'too many functions in interpolation block' };
  const steps: { name: string; run: Step }[] = [];
  for (const expression of names) {
    const step = functionFor(expression, lookup);
    if (!step) return { error: `no function matching \`${expression}\`: check that the function name, arguments, and types are correct` };
    steps.push(step);
  }
  let out = value;
  for (const step of steps) {
    if (typeof out !== 'string') return { error: `error in \`${step.name}\` function: invalid input type: ${step.name} can only be used with string inputs` };
    out = step.run(out);
  }
  return { value: out };
}

function functionFor(expression: string, lookup: InputVariableLookup): { name: string; run: Step } | null {
  if (expression === 'expand_vars') {
    return { name: 'expand_vars', run: (v) => v.replace(VARIABLE, (m, a?: string, b?: string, c?: string) => lookup((a ?? b ?? c)!) ?? m) };
  }
  if (expression === 'posix_escape') return { name: 'posix_escape', run: posixEscape };
  const t = TRUNCATE.exec(expression);
  if (t) {
    const offset = Number(t[1]);
    const length = Number(t[2]);
    return { name: 'truncate', run: (v) => Array.from(v).slice(offset, offset + length).join('') };
  }
  return null;
}

export function posixEscape(v: string): string {
  if (v === '') return "''";
  return v.replace(/[^A-Za-z0-9_\-.,:+/@\n]/gu, (c) => `\\${c}`).replace(/\n/g, "'\n'");
}
