/**
 * CI/CD inputs: a file with a `spec: {inputs: ...}` header has `$[[ inputs.NAME ]]` in its
 * keys and values replaced before anything else reads it. The value is the one given with
 * `include: {local, inputs}`, else the input's `default`; an input with neither, or a given
 * input the spec does not declare, is an error (as in GitLab). A string that is exactly one
 * interpolation block becomes the input's value with its type (a list, a map, a boolean, a
 * number: `allow_failure: $[[ inputs.allow ]]`, as GitLab does since 16.10); a block inside a
 * longer string is printed into it ("true", "3"). Other `$[[ ... ]]` expressions (e.g.
 * `matrix.X`) are left as they are.
 *
 * Up to three of GitLab's interpolation functions may follow the input, left to right
 * (`$[[ inputs.x | expand_vars | truncate(0,8) ]]`, GitLab's Interpolation::FunctionsStack):
 * `expand_vars` (one level of `$VAR`, `${VAR}`, `%VAR%` from the variables includes can use; an
 * unknown name stays as written), `truncate(offset,length)` (characters), `posix_escape` (Ruby's
 * Shellwords.shellescape). Each takes a string input only.
 */
import { configError, type SourcePositions, type Where } from './source-positions.js';
import { describeType, isMap, newMap, type YamlMap, type YamlValue } from './yaml-value.js';
import { checkInputValue } from './input-spec.js';
import { applyInputFunctions, type InputVariableLookup } from './input-functions.js';

const INPUT = /\$\[\[\s*inputs\.([A-Za-z0-9_-]+)\s*(\|[^\]]*)?\]\]/g;

export interface InputsSource {
  /** The `spec:` header of the file. */
  spec: YamlMap;
  specWhere: Where | undefined;
  /** Values given by the including file, or null for the top-level file. */
  given: YamlMap | null;
  givenWhere: Where | undefined;
}

export function interpolateInputs(value: YamlValue, source: InputsSource, positions: SourcePositions, lookup: InputVariableLookup = () => undefined): YamlValue {
  const values = inputValues(source, positions);
  return new Interpolator(values, positions, source.specWhere, lookup).value(value, source.specWhere);
}

function inputValues(source: InputsSource, positions: SourcePositions): Map<string, YamlValue> {
  const declared = source.spec.inputs ?? null;
  if (declared !== null && !isMap(declared)) {
    throw configError(positions.key(source.spec, 'inputs') ?? source.specWhere, `spec:inputs must be a map of input names, not ${describeType(declared)}`, 'spec');
  }
  const values = new Map<string, YamlValue>();
  for (const [name, def] of Object.entries(declared ?? {})) {
    const given = source.given && Object.prototype.hasOwnProperty.call(source.given, name) ? source.given[name] : undefined;
    const fallback = isMap(def) ? def.default : undefined;
    if (given === undefined && fallback === undefined) {
      throw configError(source.givenWhere ?? positions.key(declared!, name), `input "${name}" is required (spec:inputs gives it no default); pass it with include:inputs`, 'inputs');
    }
    const value = given !== undefined ? given! : fallback!;
    checkInputValue(name, def, value, given !== undefined ? 'given' : 'default', given !== undefined ? source.givenWhere : positions.key(declared!, name));
    values.set(name, value);
  }
  for (const name of Object.keys(source.given ?? {})) {
    if (!values.has(name)) {
      throw configError(source.givenWhere, `input "${name}" is not declared in the spec:inputs of the included file`, 'inputs');
    }
  }
  return values;
}

class Interpolator {
  constructor(
    private readonly values: Map<string, YamlValue>,
    private readonly positions: SourcePositions,
    private readonly fallback: Where | undefined,
    private readonly lookupVariable: InputVariableLookup,
  ) {}

  value(v: YamlValue, at: Where | undefined): YamlValue {
    if (typeof v === 'string') return this.text(v, at);
    if (Array.isArray(v)) {
      const out = v.map((item, i) => this.value(item, this.positions.item(v, i) ?? at));
      const where = this.positions.of(v);
      if (where) this.positions.set(out, where, undefined, v.map((_, i) => this.positions.item(v, i)));
      return out;
    }
    if (isMap(v)) {
      const out = newMap();
      const keys = new Map<string, Where>();
      for (const [k, item] of Object.entries(v)) {
        const keyAt = this.positions.key(v, k) ?? at;
        const text = this.text(k, keyAt);
        const key = typeof text === 'string' ? text : JSON.stringify(text);
        out[key] = this.value(item, keyAt);
        if (keyAt) keys.set(key, keyAt);
      }
      this.positions.set(out, this.positions.of(v) ?? at ?? this.fallback ?? { file: '', display: '', line: 1 }, keys);
      return out;
    }
    return v;
  }

  private text(s: string, at: Where | undefined): YamlValue {
    if (!s.includes('$[[')) return s;
    // The whole node is one block: it becomes the value itself, of the input's type.
    const whole = new RegExp(`^${INPUT.source}$`).exec(s);
    if (whole) {
      const value = this.lookup(whole[0], whole[1]!, whole[2], at);
      if (value !== null) return value;
    }
    return s.replace(INPUT, (block: string, name: string, fn: string | undefined) => printed(this.lookup(block, name, fn, at)));
  }

  private lookup(block: string, name: string, fn: string | undefined, at: Where | undefined): YamlValue {
    if (!this.values.has(name)) throw configError(at, `$[[ inputs.${name} ]]: there is no input "${name}" in spec:inputs`, 'inputs');
    const value = this.values.get(name)!;
    if (!fn) return value;
    const out = applyInputFunctions(value, fn, this.lookupVariable);
    if ('error' in out) throw configError(at, `${block}: ${out.error}`, 'inputs');
    return out.value;
  }
}

function printed(v: YamlValue): string {
  if (typeof v === 'string') return v;
  if (v === null) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}
