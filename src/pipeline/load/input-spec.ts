/**
 * An input's value (given with `include:inputs`, else its `default`) checked against its
 * `spec:inputs` entry as GitLab checks it: `type` (string by default, number, boolean or
 * array), `options` (the value is one of them) and `regex` (an RE2 pattern a string value
 * matches). GitLab refuses the pipeline when a value does not fit, the default included.
 */
import { compileRe2 } from '../rules/re2-regexp.js';
import { configError, type Where } from './source-positions.js';
import { describeType, isMap, type YamlValue } from './yaml-value.js';

const TYPES = ['string', 'number', 'boolean', 'array'];

export function checkInputValue(name: string, def: YamlValue | undefined, value: YamlValue, source: 'given' | 'default', where: Where | undefined): void {
  if (!isMap(def)) return;
  const fail = (problem: string): never => {
    throw configError(where, `input "${name}": the ${source === 'given' ? 'value given' : 'default value'} ${problem}`, 'inputs');
  };
  const type = def.type ?? 'string';
  if (typeof type !== 'string' || !TYPES.includes(type)) {
    throw configError(where, `input "${name}": type must be one of ${TYPES.join(', ')}, not ${JSON.stringify(type)}`, 'inputs');
  }
  const actual = Array.isArray(value) ? 'array' : typeof value;
  if (actual !== type) fail(`is ${describeType(value)}, not a ${type}`);
  if (Array.isArray(def.options) && !def.options.some((o) => o === value)) {
    fail(`${JSON.stringify(value)} is not one of its options (${def.options.map((o) => JSON.stringify(o)).join(', ')})`);
  }
  if (typeof def.regex === 'string' && typeof value === 'string') {
    let re: RegExp;
    try {
      re = compileRe2(def.regex, '');
    } catch (err) {
      throw configError(where, `input "${name}": regex ${JSON.stringify(def.regex)} is not a valid regular expression (${(err as Error).message})`, 'inputs');
    }
    if (!re.test(value)) fail(`${JSON.stringify(value)} does not match its regex ${def.regex}`);
  }
}
