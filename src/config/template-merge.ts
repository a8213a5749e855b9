/**
 * `berth register --template-config`, with gitlab-runner's semantics (mergo.Merge without
 * override): the template must hold exactly one `[[runners]]`, its global keys are ignored and its
 * token is cleared; it then fills only the fields that are still zero after the flags (empty
 * string, 0, false, unset, empty list or table), nested tables field by field and maps key by key.
 * So flags and environment variables always win, and a bool set to false on the command line
 * cannot beat a template's true; neither can a Go pointer field (services_privileged,
 * services_limit, the S3 PathStyle/DualStack) set to false or 0, as mergo merges the pointees.
 */
import { InputError } from '../shared/errors.js';
import type { RunnerConfig } from './berth-config.js';
import type { ConfigWarning } from './config-issues.js';
import { sameValue } from './decode-table.js';
import { loadConfig } from './load-config.js';
import { runnerSchema } from './runner-schema.js';
import { emptyOf, zeroOf, type Schema } from './schema.js';

const MAP_KINDS = new Set(['stringMap', 'boolMap', 'stringListMap', 'rawTable']);

export interface RunnerTemplate {
  runner: RunnerConfig;
  warnings: ConfigWarning[];
}

export async function loadRunnerTemplate(path: string, env: NodeJS.ProcessEnv): Promise<RunnerTemplate> {
  const { config, warnings } = await loadConfig(path, { env, template: true });
  if (config.runners.length !== 1) {
    throw new InputError(
      `${path}: a configuration template must contain exactly one [[runners]] entry, found ${config.runners.length}`,
      { file: path },
    );
  }
  const runner = config.runners[0]!;
  runner.token = '';
  if (runner.expandedFrom) delete runner.expandedFrom.token;
  return { runner, warnings };
}

/** `dst` with its zero fields filled from `template` (a new object; neither input changes). */
export function mergeTemplate(dst: RunnerConfig, template: RunnerConfig): RunnerConfig {
  const out = structuredClone(dst);
  mergeInto(out, template, runnerSchema);
  if (!dst.url && template.url && template.expandedFrom?.url) out.expandedFrom = { ...out.expandedFrom, url: template.expandedFrom.url };
  return out;
}

function mergeInto(dst: Record<string, unknown>, src: Record<string, unknown>, schema: Schema): void {
  for (const [prop, decl] of Object.entries(schema)) {
    if (decl.kind === 'table') {
      mergeInto(dst[prop] as Record<string, unknown>, src[prop] as Record<string, unknown>, decl.fields);
    } else if (MAP_KINDS.has(decl.kind) && dst[prop] && src[prop]) {
      mergeMap(dst[prop] as Record<string, unknown>, src[prop] as Record<string, unknown>);
    } else if (MAP_KINDS.has(decl.kind)) {
      // A table that may be absent (optTable): the template's, when the flags left it unset.
      if (!dst[prop]) dst[prop] = structuredClone(src[prop]);
    } else if (decl.kind !== 'tableArray' && decl.pointer) {
      // mergo on a Go pointer: a nil template pointer changes nothing; a nil destination takes the
      // template's, and so does a set one pointing at an empty value (false, 0): mergo recurses
      // into the pointees and fills the empty one. So --docker-services_privileged=false loses to
      // a template's true, as --strict-check-interval=false does.
      const unset = zeroOf(decl);
      if (!sameValue(src[prop], unset) && (sameValue(dst[prop], unset) || sameValue(dst[prop], emptyOf(decl)))) dst[prop] = structuredClone(src[prop]);
    } else if (sameValue(dst[prop], zeroOf(decl))) {
      dst[prop] = structuredClone(src[prop]);
    }
  }
}

/** Maps merge key by key: a key missing or zero in `dst` takes the template's value; tables recurse. */
function mergeMap(dst: Record<string, unknown>, src: Record<string, unknown>): void {
  for (const [key, value] of Object.entries(src)) {
    const mine = dst[key];
    if (isPlainTable(mine) && isPlainTable(value)) mergeMap(mine, value);
    else if (isZeroValue(mine)) dst[key] = structuredClone(value);
  }
}

function isPlainTable(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function isZeroValue(v: unknown): boolean {
  return v === undefined || v === null || v === '' || v === 0 || v === false || (Array.isArray(v) && v.length === 0);
}

/**
 * After the merge: gitlab-runner omits zero values when it writes config.toml, and reads them back
 * as "the default". Do the same here so that `output_limit = 0` and the like are never written.
 */
export function fillZeroDefaults(runner: RunnerConfig): RunnerConfig {
  const out = structuredClone(runner);
  fillInto(out, runnerSchema);
  return out;
}

function fillInto(obj: Record<string, unknown>, schema: Schema): void {
  for (const [prop, decl] of Object.entries(schema)) {
    if (decl.kind === 'table') fillInto(obj[prop] as Record<string, unknown>, decl.fields);
    else if (decl.kind !== 'tableArray' && decl.defaultWhen && obj[prop] === 0) obj[prop] = decl.default;
  }
}
