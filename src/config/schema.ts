/**
 * The vocabulary of the config.toml schema: one declaration per key, saying its TOML name, its
 * type, its default, whether `berth register` has a flag and an environment variable for it, and
 * how `saveConfig` treats it. The TypeScript types of the config are inferred from these
 * declarations (see berth-config.ts), so a key is declared once.
 */

export type FieldKind =
  | 'string'
  | 'int'
  | 'bool'
  | 'optBool'
  | 'stringList'
  | 'enum'
  | 'enumList'
  | 'stringMap'
  | 'boolMap'
  | 'stringListMap'
  | 'duration'
  | 'datetime'
  | 'rawTable';

export interface FieldOptions {
  /** One line for people: what the key does. */
  doc: string;
  /** `berth register` flag (without `--`, relative to the table's flag prefix), as gitlab-runner names it. */
  flag?: string;
  /** Short flag letter. */
  short?: string;
  /** Environment variable `berth register` reads when the flag is absent (gitlab-runner's name). */
  env?: string;
  /** Parsed and kept, but berth does not act on it: a non-default value gives a warning. */
  unused?: boolean;
  /** gitlab-runner writes this key even when it has its default value. */
  always?: boolean;
  /** Never echo the value in a message. */
  secret?: boolean;
  /** A Go pointer in gitlab-runner: "unset" is its default, not the type's zero (matters for template merges). */
  pointer?: boolean;
  /** The runtime treats 0 (`zero`) or any value <= 0 (`nonPositive`) as the default. */
  defaultWhen?: 'zero' | 'nonPositive';
  /** Smallest allowed value of an int. */
  min?: number;
}

export interface FieldDecl<T> extends FieldOptions {
  readonly kind: FieldKind;
  readonly toml: string;
  readonly default: T;
  /** Allowed values of `enum` / `enumList` keys. */
  readonly values?: readonly string[];
}

export interface TableDecl<S extends Schema> {
  readonly kind: 'table';
  readonly toml: string;
  readonly doc: string;
  readonly fields: S;
  /** Prefix of the register flags of this table's keys (`docker-`). */
  readonly flagPrefix?: string;
}

export interface TableArrayDecl<S extends Schema> {
  readonly kind: 'tableArray';
  readonly toml: string;
  readonly doc: string;
  readonly fields: S;
  /** berth extension: a plain string element stands for a table with only this key set. */
  readonly stringShorthand?: keyof S & string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyDecl = FieldDecl<any> | TableDecl<Schema> | TableArrayDecl<Schema>;
export type Schema = { readonly [prop: string]: AnyDecl };

export type Infer<S extends Schema> = { -readonly [K in keyof S]: InferDecl<S[K]> };
type InferDecl<D> =
  D extends TableDecl<infer S> ? Infer<S> : D extends TableArrayDecl<infer S> ? Infer<S>[] : D extends FieldDecl<infer T> ? T : never;

type Opts<T> = FieldOptions & { default?: T };
const field = <T>(kind: FieldKind, toml: string, fallback: T, o: Opts<T>, values?: readonly string[]): FieldDecl<T> => ({
  ...o,
  kind,
  toml,
  default: o.default ?? fallback,
  ...(values ? { values } : {}),
});

export const str = (toml: string, o: Opts<string>) => field('string', toml, '', o);
export const int = (toml: string, o: Opts<number>) => field('int', toml, 0, o);
export const bool = (toml: string, o: Opts<boolean>) => field('bool', toml, false, o);
/** A bool that may be unset (`null`): gitlab-runner's `*bool`. */
export const optBool = (toml: string, o: FieldOptions) => field<boolean | null>('optBool', toml, null, { ...o, pointer: true });
export const strList = (toml: string, o: Opts<string[]>) => field('stringList', toml, [] as string[], o);
export const enumOf = <V extends string>(toml: string, values: readonly V[], o: Opts<V | ''>) =>
  field<V | ''>('enum', toml, '', o, values);
/** A string or a list of strings in TOML, each one of `values`. */
export const enumList = <V extends string>(toml: string, values: readonly V[], o: Opts<V[]>) =>
  field<V[]>('enumList', toml, [], o, values);
export const strMap = (toml: string, o: Opts<Record<string, string>>) => field('stringMap', toml, {}, o);
export const boolMap = (toml: string, o: Opts<Record<string, boolean>>) => field('boolMap', toml, {}, o);
export const strListMap = (toml: string, o: Opts<Record<string, string[]>>) =>
  field('stringListMap', toml, {}, o);
/** A Go duration (`"15m"`, `"1h30m"`, or integer nanoseconds), kept in milliseconds. */
export const duration = (toml: string, o: Opts<number>) => field('duration', toml, 0, o);
/** A TOML date-time, kept as an ISO 8601 string; '' is Go's zero time (`0001-01-01T00:00:00Z`). */
export const datetime = (toml: string, o: Opts<string>) => field('datetime', toml, '', o);
/** A table berth keeps as it is (for saving) without looking inside. */
export const rawTable = (toml: string, o: Opts<Record<string, unknown>>) => field('rawTable', toml, {}, o);
/**
 * A table gitlab-runner has (a Go pointer to a struct) and berth keeps as it is, without looking
 * inside: `null` when absent; present (even empty) it is written back.
 */
export const optTable = (toml: string, o: FieldOptions) =>
  field<Record<string, unknown> | null>('rawTable', toml, null, { ...o, pointer: true });

export const table = <S extends Schema>(toml: string, fields: S, o: { doc: string; flagPrefix?: string }): TableDecl<S> => ({
  kind: 'table',
  toml,
  fields,
  ...o,
});
export const tableArray = <S extends Schema>(
  toml: string,
  fields: S,
  o: { doc: string; stringShorthand?: keyof S & string },
): TableArrayDecl<S> => ({ kind: 'tableArray', toml, fields, ...o });

/** The value of `decl` when its key is absent (a fresh copy). */
export function defaultOf(decl: AnyDecl): unknown {
  if (decl.kind === 'table') return defaultsOf(decl.fields);
  if (decl.kind === 'tableArray') return [];
  return structuredClone(decl.default);
}

/** gitlab-runner's Go zero value of `decl` (pointers: unset, which is the default). */
export function zeroOf(decl: AnyDecl): unknown {
  if (decl.kind === 'table') return zerosOf(decl.fields);
  if (decl.kind === 'tableArray') return [];
  if (decl.pointer) return structuredClone(decl.default);
  return ZERO[decl.kind]();
}

/** The Go zero value of `decl`'s type, also for pointers (what a set pointer may point to). */
export function emptyOf(decl: FieldDecl<unknown>): unknown {
  return decl.kind === 'optBool' ? false : ZERO[decl.kind]();
}

const ZERO: Record<FieldKind, () => unknown> = {
  string: () => '',
  int: () => 0,
  bool: () => false,
  optBool: () => null,
  stringList: () => [],
  enum: () => '',
  enumList: () => [],
  stringMap: () => ({}),
  boolMap: () => ({}),
  stringListMap: () => ({}),
  duration: () => 0,
  datetime: () => '',
  rawTable: () => ({}),
};

export function defaultsOf<S extends Schema>(schema: S): Infer<S> {
  return Object.fromEntries(Object.entries(schema).map(([k, d]) => [k, defaultOf(d)])) as Infer<S>;
}

export function zerosOf<S extends Schema>(schema: S): Infer<S> {
  return Object.fromEntries(Object.entries(schema).map(([k, d]) => [k, zeroOf(d)])) as Infer<S>;
}
