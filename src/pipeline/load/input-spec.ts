/**
 * An input's value (given with `include:inputs`, else its `default`) checked against its
 * `spec:inputs` entry as GitLab checks it: `type` (string by default, number, boolean or
 * array), `options` (the value is one of them) and `regex` (an RE2 pattern a string value
 * matches). GitLab refuses the pipeline when a value does not fit, the default included.
 */
import { compileRe2 } from '../rules/re2-regexp.js';
import { RegExpTimeoutError, testWithin } from '../../shared/bounded-regexp.js';
import { configError, type Where } from './source-positions.js';
import { describeType, isMap, type YamlValue } from './yaml-value.js';

const TYPES = ['string', 'number', 'boolean', 'array'];

export function checkInputValue(name: string, def: YamlValue | undefined, value: YamlValue, source: 'given' | 'default', where: Where | undefined): void {
  // An input written with no spec (`website:`) is a string input (GitLab's StringInput for a nil spec).
  if (def !== null && !isMap(def)) return;
  const spec = isMap(def) ? def : {};
  const fail = (problem: string): never => {
    throw configError(where, `input "${name}": the ${source === 'given' ? 'value given' : 'default value'} ${problem}`, 'inputs');
  };
  const type = spec.type ?? 'string';
  if (typeof type !== 'string' || !TYPES.includes(type)) {
    throw configError(where, `input "${name}": type must be one of ${TYPES.join(', ')}, not ${JSON.stringify(type)}`, 'inputs');
  }
  const actual = Array.isArray(value) ? 'array' : typeof value;
  if (actual !== type) fail(`is ${describeType(value)}, not a ${type}`);
  if (Array.isArray(spec.options) && !spec.options.some((o) => o === value)) {
    fail(`${JSON.stringify(value)} is not one of its options (${spec.options.map((o) => JSON.stringify(o)).join(', ')})`);
  }
  if (typeof spec.regex === 'string' && typeof value === 'string') {
    let re: RegExp;
    try {
      re = compileRe2(spec.regex, '');
    } catch (err) {
      throw configError(where, `input "${name}": regex ${JSON.stringify(spec.regex)} is not a valid regular expression (${(err as Error).message})`, 'inputs');
    }
    let matched: boolean;
    try {
      matched = testWithin(re, value);
    } catch (err) {
      if (err instanceof RegExpTimeoutError) throw configError(where, `input "${name}": regex: ${err.message}`, 'inputs');
      throw err;
    }
    if (!matched) fail(`${JSON.stringify(value)} does not match its regex ${spec.regex}`);
  }
}
