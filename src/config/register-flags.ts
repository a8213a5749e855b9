/**
 * The flags of `berth register`, as one declarative table: gitlab-runner's register-only flags,
 * plus one flag for every config.toml key the schema gives a flag (`--limit`, `--docker-image`,
 * `--docker-privileged`, ...), each with gitlab-runner's environment variable. `readRegisterInput`
 * turns parsed flag values (or, when a flag is absent, its environment variable) into a zero-based
 * `[[runners]]` entry plus the register options.
 */
import { InputError } from '../shared/errors.js';
import { zeroRunnerConfig, type RunnerConfig } from './berth-config.js';
import { parseGoDuration } from '../shared/go-duration.js';
import { runnerSchema } from './runner-schema.js';
import type { FieldKind, Schema } from './schema.js';
import { parseGoBool } from '../shared/go-bool.js';

export type FlagKind = 'string' | 'int' | 'bool' | 'list' | 'enum' | 'map' | 'boolMap' | 'listMap' | 'duration';

export interface RegisterOptions {
  nonInteractive: boolean;
  registrationToken: string;
  tagList: string;
  runUntagged: boolean;
  locked: boolean;
  accessLevel: string;
  maximumTimeout: number;
  paused: boolean;
  maintenanceNote: string;
  leaveRunner: boolean;
  templateConfig: string;
  config: string;
}

export interface FlagSpec {
  long: string;
  short?: string;
  env?: string;
  kind: FlagKind;
  /** Allowed values (enum flags and each item of enum lists). */
  values?: readonly string[];
  /** May be given more than once (lists, maps). */
  repeatable: boolean;
  description: string;
  /** Property path in RunnerConfig, or a register option. */
  target: { runner: readonly string[] } | { option: keyof RegisterOptions };
}

const opt = (long: string, kind: FlagKind, option: keyof RegisterOptions, env: string, description: string, short?: string): FlagSpec => ({
  long,
  kind,
  env,
  description,
  repeatable: false,
  target: { option },
  ...(short ? { short } : {}),
});

/** gitlab-runner's register-only flags (commands/register.go). */
const REGISTER_ONLY: FlagSpec[] = [
  opt('non-interactive', 'bool', 'nonInteractive', 'REGISTER_NON_INTERACTIVE', 'Run registration unattended', 'n'),
  opt('registration-token', 'string', 'registrationToken', 'REGISTRATION_TOKEN', "Runner's registration token (deprecated, use --token)", 'r'),
  opt('tag-list', 'string', 'tagList', 'RUNNER_TAG_LIST', 'Tag list (registration tokens only)'),
  opt('run-untagged', 'bool', 'runUntagged', 'REGISTER_RUN_UNTAGGED', "Run untagged jobs; defaults to 'true' when 'tag-list' is empty"),
  opt('locked', 'bool', 'locked', 'REGISTER_LOCKED', "Lock the runner to the current project, defaults to 'true'"),
  { ...opt('access-level', 'enum', 'accessLevel', 'REGISTER_ACCESS_LEVEL', 'not_protected or ref_protected; defaults to not_protected'), values: ['not_protected', 'ref_protected'] },
  opt('maximum-timeout', 'int', 'maximumTimeout', 'REGISTER_MAXIMUM_TIMEOUT', 'Maximum job timeout in seconds'),
  opt('paused', 'bool', 'paused', 'REGISTER_PAUSED', "Register the runner paused, defaults to 'false'"),
  opt('maintenance-note', 'string', 'maintenanceNote', 'REGISTER_MAINTENANCE_NOTE', "Runner's maintenance note"),
  opt('leave-runner', 'bool', 'leaveRunner', 'REGISTER_LEAVE_RUNNER', "Don't remove the runner from GitLab if registration fails"),
  opt('template-config', 'string', 'templateConfig', 'TEMPLATE_CONFIG_FILE', 'Path to a configuration template file'),
  opt('config', 'string', 'config', 'CONFIG_FILE', 'Config file', 'c'),
];

const FLAG_KIND: Partial<Record<FieldKind, FlagKind>> = {
  string: 'string',
  int: 'int',
  bool: 'bool',
  optBool: 'bool',
  stringList: 'list',
  enum: 'enum',
  enumList: 'list',
  stringMap: 'map',
  boolMap: 'boolMap',
  stringListMap: 'listMap',
  duration: 'duration',
};

function schemaFlags(schema: Schema, prefix: string, path: readonly string[]): FlagSpec[] {
  return Object.entries(schema).flatMap(([prop, decl]): FlagSpec[] => {
    if (decl.kind === 'table') return schemaFlags(decl.fields, prefix + (decl.flagPrefix ?? ''), [...path, prop]);
    const kind = decl.kind === 'tableArray' ? undefined : FLAG_KIND[decl.kind];
    if (decl.kind === 'tableArray' || !decl.flag || !kind) return [];
    return [
      {
        long: prefix + decl.flag,
        kind,
        repeatable: kind === 'list' || kind === 'map' || kind === 'boolMap' || kind === 'listMap',
        description: decl.doc,
        target: { runner: [...path, prop] },
        ...(decl.short ? { short: decl.short } : {}),
        ...(decl.env ? { env: decl.env } : {}),
        ...(decl.values ? { values: decl.values } : {}),
      },
    ];
  });
}

/** Every flag of `berth register`. */
export function registerFlagSpecs(): FlagSpec[] {
  const name: FlagSpec = { long: 'name', kind: 'string', env: 'RUNNER_NAME', repeatable: false, description: 'Runner name (same as --description)', target: { runner: ['name'] } };
  return [...REGISTER_ONLY, name, ...schemaFlags(runnerSchema, '', [])];
}

/** Parses one occurrence of a flag; `previous` is the value so far (repeatable flags accumulate). */
export function parseFlagValue(spec: FlagSpec, raw: string, previous?: unknown): unknown {
  const bad = (what: string) => new InputError(`--${spec.long}: ${JSON.stringify(raw)} ${what}`, { key: `--${spec.long}` });
  const checkValue = (v: string): string => {
    if (spec.values && !spec.values.includes(v)) throw bad(`is not one of ${spec.values.join(', ')}`);
    return v;
  };
  switch (spec.kind) {
    case 'string':
      return raw;
    case 'enum':
      return checkValue(raw);
    case 'int':
      if (!/^[-+]?\d+$/.test(raw.trim())) throw bad('is not a whole number');
      return Number(raw);
    case 'bool':
      return parseGoBool(raw) ?? throwError(bad('is not a boolean (use true or false)'));
    case 'duration':
      return parseGoDuration(raw) ?? throwError(bad('is not a duration such as "90s" or "1h30m"'));
    case 'list':
      return [...((previous as string[] | undefined) ?? []), checkValue(raw)];
    case 'map':
    case 'boolMap':
    case 'listMap':
      return { ...((previous) ?? {}), ...parseMapFlag(spec, raw, bad) };
  }
}

function throwError(err: Error): never {
  throw err;
}

/** A JSON object (`{"/var/lib/mysql":"rw"}`), or `key=value`. */
function parseMapFlag(spec: FlagSpec, raw: string, bad: (what: string) => InputError): Record<string, unknown> {
  let entries: [string, unknown][];
  if (raw.trim().startsWith('{')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch {
      throw bad('is not a JSON object');
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw bad('is not a JSON object');
    entries = Object.entries(parsed);
  } else {
    const eq = raw.indexOf('=');
    if (eq <= 0) throw bad('is not key=value or a JSON object');
    const value = raw.slice(eq + 1);
    entries = [[raw.slice(0, eq), spec.kind === 'boolMap' ? (parseGoBool(value) ?? value) : spec.kind === 'listMap' ? value.split(',') : value]];
  }
  const ok = (v: unknown) =>
    spec.kind === 'boolMap' ? typeof v === 'boolean' : spec.kind === 'listMap' ? Array.isArray(v) && v.every((s) => typeof s === 'string') : typeof v === 'string';
  const wrong = entries.find(([, v]) => !ok(v));
  if (wrong) throw bad(`has a bad value for ${JSON.stringify(wrong[0])}`);
  return Object.fromEntries(entries);
}

/** An environment variable's value for a flag: lists and maps take comma-separated items. */
export function parseEnvValue(spec: FlagSpec, raw: string): unknown {
  if (spec.kind === 'list') return raw.split(',').map((s) => s.trim()).filter(Boolean).reduce<unknown>((acc, item) => parseFlagValue(spec, item, acc), []);
  if (spec.repeatable && !raw.trim().startsWith('{')) {
    return raw.split(',').map((s) => s.trim()).filter(Boolean).reduce<unknown>((acc, item) => parseFlagValue(spec, item, acc), {});
  }
  return parseFlagValue(spec, raw);
}

export interface RegisterInput {
  /** The `[[runners]]` entry the flags describe, zero where no flag was given (see template-merge.ts). */
  runner: RunnerConfig;
  options: RegisterOptions;
  /** Long names of the flags given on the command line or by environment variable. */
  given: Set<string>;
}

/**
 * Collects the flag values: `cliValue(spec)` is the parsed command-line value (undefined when the
 * flag was not given); an absent flag falls back to its environment variable.
 */
export function readRegisterInput(specs: readonly FlagSpec[], cliValue: (spec: FlagSpec) => unknown, env: NodeJS.ProcessEnv): RegisterInput {
  const runner = zeroRunnerConfig();
  const options: RegisterOptions = {
    nonInteractive: false,
    registrationToken: '',
    tagList: '',
    runUntagged: false,
    locked: true,
    accessLevel: '',
    maximumTimeout: 0,
    paused: false,
    maintenanceNote: '',
    leaveRunner: false,
    templateConfig: '',
    config: '',
  };
  const given = new Set<string>();
  const set = new Set<string>(); // targets set so far: the command line first, then the environment
  const apply = (spec: FlagSpec, value: unknown): void => {
    given.add(spec.long);
    set.add(targetKey(spec));
    if ('option' in spec.target) (options as unknown as Record<string, unknown>)[spec.target.option] = value;
    else setPath(runner, spec.target.runner, value);
  };
  for (const spec of specs) {
    const value = cliValue(spec);
    if (value !== undefined) apply(spec, value);
  }
  for (const spec of specs) {
    const fromEnv = spec.env === undefined ? undefined : env[spec.env];
    if (fromEnv !== undefined && fromEnv !== '' && !set.has(targetKey(spec))) apply(spec, parseEnvValue(spec, fromEnv));
  }
  return { runner, options, given };
}

function targetKey(spec: FlagSpec): string {
  return 'option' in spec.target ? `option:${spec.target.option}` : spec.target.runner.join('.');
}

function setPath(obj: object, path: readonly string[], value: unknown): void {
  let cur = obj as Record<string, unknown>;
  for (const key of path.slice(0, -1)) cur = cur[key] as Record<string, unknown>;
  cur[path[path.length - 1]!] = value;
}
