/**
 * `include:` with GitLab's merge order: the included files (each with its own includes
 * resolved first) are deep-merged in the listed order, then the including file is merged on
 * top. Only `include:local` can be read by berth exec (string, list, `{local, rules, inputs}`,
 * wildcards); a file's `spec:inputs` are interpolated first; remote, project, template, component and artifact includes are skipped with a
 * warning (their rules still decide whether they count), and `onSkipped` is told, so that
 * later steps can forgive what those files would have defined.
 * Local paths are relative to the project root; a cycle is an error. Every file read (includes,
 * and the pipeline file unless the user named it) must really be inside the project root: a
 * link that leads out of the repository is refused, as GitLab reads only the repository.
 */
import { stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { FsGuardError, resolveInside } from '../../fs-guard/index.js';
import { expandString } from '../../shared/expand-string.js';
import { InputError } from '../../shared/errors.js';
import { mergeMaps, withoutKeys } from './deep-merge.js';
import type { VariableLookup } from '../rules/expression-evaluator.js';
import { interpolateInputs } from './inputs-interpolation.js';
import { expectString } from '../keywords/keyword-values.js';
import { firstMatchingRule, INCLUDE_RULES, parseRules, type RuleContext } from '../rules/rules.js';
import { flattenList } from '../keywords/flatten-list.js';
import { configError, locationPrefix, type SourcePositions, type Where } from './source-positions.js';
import { expandWildcard } from './wildcard-paths.js';
import type { YamlLimits } from './yaml-converter.js';
import { loadYamlFile } from './yaml-loader.js';
import { describeType, hasKey, isMap, newMap, type YamlMap, type YamlValue } from './yaml-value.js';

export const MAX_INCLUDES = 150;

const UNSUPPORTED = ['remote', 'project', 'template', 'component', 'artifact'];

export interface IncludeContext {
  root: string;
  positions: SourcePositions;
  limits?: YamlLimits;
  warn(message: string): void;
  /** Pipeline-level variables, for `$VAR` in paths and `rules:if`. */
  lookup: VariableLookup;
  rules: Omit<RuleContext, 'lookup'>;
  /** The user named the pipeline file (`--file`): it may lie outside the root; includes may not. */
  mainFileNamed?: boolean;
  /** Called once per include that berth exec cannot read, e.g. `include:template "SAST.gitlab-ci.yml"`. */
  onSkipped?(what: string): void;
}

interface IncludeEntry {
  /** The local path, or null for an include that cannot be read locally. */
  local: string | null;
  /** `include:template "x"` for a skipped include. */
  what: string;
  where: Where | undefined;
  rules: ReturnType<typeof parseRules>;
  /** `include:inputs` for the included file's `spec:inputs`. */
  inputs: YamlMap | null;
}

export async function loadConfig(file: string, ctx: IncludeContext): Promise<YamlMap> {
  const state = { count: 0 };
  return loadFile(resolve(file), [], ctx, state, undefined, null);
}

export function displayPath(file: string, root: string): string {
  const rel = relative(root, file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel.split('\\').join('/') : file;
}

async function loadFile(
  file: string,
  stack: string[],
  ctx: IncludeContext,
  state: { count: number },
  from: Where | undefined,
  inputs: YamlMap | null,
): Promise<YamlMap> {
  const display = displayPath(file, ctx.root);
  if (stack.length > 0 || !ctx.mainFileNamed) await checkInsideRoot(file, display, from, ctx);
  const loaded = await loadYamlFile(file, display, ctx.positions, ctx.limits);
  for (const w of loaded.warnings) ctx.warn(w);
  if (inputs && !loaded.spec) {
    throw configError(from, `include:inputs are given, but ${display} has no spec:inputs header to receive them`, 'include');
  }
  const value = loaded.spec
    ? interpolateInputs(loaded.value, { spec: loaded.spec.value, specWhere: loaded.spec.where, given: inputs, givenWhere: from }, ctx.positions)
    : loaded.value;
  if (value === null) {
    throw configError(from ?? { file, display, line: 1 }, `${display} is empty; it needs at least one job`);
  }
  if (!isMap(value)) {
    throw configError(ctx.positions.of(value) ?? { file, display, line: 1 }, `${display} must be a map of keywords and jobs, not ${describeType(value)}`);
  }
  if (!hasKey(value, 'include')) return value;
  const chain = [...stack, file];
  let merged = newMap();
  for (const entry of parseEntries(value.include!, display, ctx.positions, ctx.positions.key(value, 'include'), (w) => ctx.warn(w))) {
    if (entry.rules) {
      const rule = await firstMatchingRule(entry.rules, { ...ctx.rules, lookup: ctx.lookup });
      if (!rule || rule.when === 'never') continue;
    }
    if (entry.local === null) {
      ctx.warn(`${locationPrefix(entry.where)}${entry.what} cannot be read by berth exec (only include:local files can); it is skipped, so the jobs and templates it defines are missing`);
      ctx.onSkipped?.(entry.what);
      continue;
    }
    for (const path of await localPaths(entry.local, entry.where, ctx)) {
      const target = resolve(ctx.root, path);
      if (chain.includes(target)) {
        const names = [...chain.slice(chain.indexOf(target)), target].map((f) => displayPath(f, ctx.root));
        throw configError(entry.where, `include cycle: ${names.join(' → ')}`, 'include');
      }
      if (++state.count > MAX_INCLUDES) {
        throw configError(entry.where, `more than ${MAX_INCLUDES} included files; reduce the includes`, 'include');
      }
      merged = mergeMaps(merged, await loadFile(target, chain, ctx, state, entry.where, entry.inputs), ctx.positions);
    }
  }
  return mergeMaps(merged, withoutKeys(value, ['include'], ctx.positions), ctx.positions);
}

async function checkInsideRoot(file: string, display: string, from: Where | undefined, ctx: IncludeContext): Promise<void> {
  try {
    await resolveInside(ctx.root, file);
  } catch (err) {
    if (!(err instanceof FsGuardError)) throw err;
    const hint = from ? '' : ' (name a pipeline file outside the repository explicitly with --file)';
    throw new InputError(`${locationPrefix(from ?? { file, display, line: 1 })}${err.message}${hint}`, { file, line: from?.line }, { cause: err });
  }
}

function parseEntries(value: YamlValue, display: string, positions: SourcePositions, where: Where | undefined, warn: (m: string) => void): IncludeEntry[] {
  // Nested lists (a YAML alias of a list of includes) are flattened, as GitLab's Entry::Includes does.
  const list = Array.isArray(value) ? flattenList(value, positions, where) : [{ value, where }];
  return list.map(({ value: item, where: at }) => {
    if (typeof item === 'string') {
      if (/^https?:\/\//i.test(item)) return { local: null, what: describeInclude('remote', item), where: at, rules: null, inputs: null };
      return { local: item, what: `include:local "${item}"`, where: at, rules: null, inputs: null };
    }
    if (!isMap(item)) throw configError(at, `include must be a path or a map such as {local: path}, not ${describeType(item)}`, 'include');
    const kind = UNSUPPORTED.find((k) => hasKey(item, k));
    if (kind) {
      const rules = parseRules(item.rules, `include:${kind}`, INCLUDE_RULES, positions, positions.key(item, 'rules'), warn);
      return { local: null, what: describeInclude(kind, item[kind]), where: at, rules, inputs: null };
    }
    if (!hasKey(item, 'local')) {
      throw configError(at, `include has none of local, remote, project, template, component (keys: ${Object.keys(item).join(', ')})`, 'include');
    }
    const local = expectString(item.local, 'include:local', positions.key(item, 'local') ?? at, 'include');
    const rules = parseRules(item.rules, `include "${local}"`, INCLUDE_RULES, positions, positions.key(item, 'rules'), warn);
    const inputs = item.inputs === undefined || item.inputs === null ? null : item.inputs;
    if (inputs !== null && !isMap(inputs)) throw configError(positions.key(item, 'inputs') ?? at, `include:inputs must be a map of input names and values, not ${describeType(inputs)}`, 'include');
    return { local, what: `include:local "${local}"`, where: positions.key(item, 'local') ?? at, rules, inputs };
  });
}

function describeInclude(kind: string, value: YamlValue | undefined): string {
  return `include:${kind}${typeof value === 'string' ? ` "${value}"` : ''}`;
}

async function localPaths(local: string, where: Where | undefined, ctx: IncludeContext): Promise<string[]> {
  const entry = { local, where };
  const path = expandString(entry.local, ctx.lookup).replace(/^\/+/, '');
  const guardError = (err: unknown): never => {
    if (!(err instanceof FsGuardError)) throw err;
    throw configError(entry.where, `include:local "${entry.local}": ${err.message}`, 'include');
  };
  if (path.split('/').includes('..')) {
    throw configError(entry.where, `include:local "${entry.local}" leaves the project directory; local includes are relative to the project root`, 'include');
  }
  if (!/\.ya?ml$/.test(path)) {
    throw configError(entry.where, `include:local "${entry.local}" is not a YAML file (the name must end in .yml or .yaml)`, 'include');
  }
  if (path.includes('*')) {
    const found = await expandWildcard(path, ctx.root).catch(guardError);
    if (found.length === 0) ctx.warn(`${entry.where ? `${entry.where.display}:${entry.where.line}: ` : ''}include:local "${entry.local}" matched no file`);
    return found;
  }
  const real = await resolveInside(ctx.root, resolve(ctx.root, path)).catch(guardError);
  if (real === null) {
    throw configError(entry.where, `include:local "${entry.local}" does not exist (local includes are relative to the project root ${ctx.root})`, 'include');
  }
  // resolveInside follows no link out of the root; a device, FIFO or folder is never read.
  const st = await stat(real).catch(() => null);
  if (st && !st.isFile()) {
    throw configError(entry.where, `include:local "${entry.local}" is not a regular file (a directory, device or pipe is never read); include a YAML file`, 'include');
  }
  return [path];
}
