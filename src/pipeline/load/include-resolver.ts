/**
 * `include:` with GitLab's merge order: the included files (each with its own includes
 * resolved first) are deep-merged in the listed order, then the including file is merged on
 * top. berth exec reads `include:local` (string, list, `{local, rules, inputs}`, wildcards),
 * `include:remote` (https, cached: remote-include.ts), `include:project` and
 * `include:component` (git: project-include.ts) when `ctx.external` is given; a file's
 * `spec:inputs` are interpolated first. Template and artifact includes are skipped with a
 * warning (their rules still decide whether they count), and `onSkipped` is told, so that
 * later steps can forgive what those files would have defined.
 * Local paths are relative to the project the including file belongs to, as in GitLab: the
 * repository for its own files and for remote files (GitLab keeps the including project as
 * their context), the other project (at the same ref) for a project's or component's files.
 * A cycle is an error. Every file read from the repository (includes, and the pipeline file
 * unless the user named it) must really be inside the project root: a link that leads out of
 * the repository is refused, as GitLab reads only the repository.
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
import { loadYamlFile, parseYamlText, type LoadedYaml } from './yaml-loader.js';
import { componentPaths, isVersionPattern, parseComponentAddress, pickComponentVersion } from './component-include.js';
import type { ExternalIncludes } from './external-includes.js';
import { describeType, hasKey, isMap, newMap, type YamlMap, type YamlValue } from './yaml-value.js';

export const MAX_INCLUDES = 150;

const SKIPPED = ['template', 'artifact'];
const EXTERNAL = ['remote', 'project', 'component'];

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
  /** Remote, project and component includes; without it they are skipped like templates. */
  external?: ExternalIncludes;
}

type IncludeTarget =
  | { kind: 'local'; local: string }
  | { kind: 'remote'; url: string; integrity: string | null }
  | { kind: 'project'; project: string; ref: string | null; files: string[] }
  | { kind: 'component'; address: string }
  | { kind: 'skip' };

/** Whose files an `include:local` names: the repository, or another project at a ref. */
type Origin = { project: string; ref: string | null } | null;

/** A file to load: from disk (`text` undefined) or fetched. `id` tells files apart for cycles. */
interface Source {
  id: string;
  file: string;
  display: string;
  text?: string;
  origin: Origin;
}

interface IncludeEntry {
  target: IncludeTarget;
  /** `include:template "x"`, `include:remote "https://..."`: for messages. */
  what: string;
  where: Where | undefined;
  rules: ReturnType<typeof parseRules>;
  /** `include:inputs` for the included file's `spec:inputs`. */
  inputs: YamlMap | null;
}

export async function loadConfig(file: string, ctx: IncludeContext): Promise<YamlMap> {
  const state = { count: 0 };
  const path = resolve(file);
  return loadFile({ id: path, file: path, display: displayPath(path, ctx.root), origin: null }, [], ctx, state, undefined, null);
}

export function displayPath(file: string, root: string): string {
  const rel = relative(root, file);
  return rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel.split('\\').join('/') : file;
}

async function loadFile(
  source: Source,
  stack: string[],
  ctx: IncludeContext,
  state: { count: number },
  from: Where | undefined,
  inputs: YamlMap | null,
): Promise<YamlMap> {
  const { file, display } = source;
  let loaded: LoadedYaml;
  if (source.text === undefined) {
    if (stack.length > 0 || !ctx.mainFileNamed) await checkInsideRoot(file, display, from, ctx);
    loaded = await loadYamlFile(file, display, ctx.positions, ctx.limits);
  } else {
    loaded = parseYamlText(source.text, file, display, ctx.positions, ctx.limits);
  }
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
  const chain = [...stack, source.id];
  const displays = new Map<string, string>();
  let merged = newMap();
  for (const entry of parseEntries(value.include!, display, ctx.positions, ctx.positions.key(value, 'include'), (w) => ctx.warn(w))) {
    if (entry.rules) {
      const rule = await firstMatchingRule(entry.rules, { ...ctx.rules, lookup: ctx.lookup });
      if (!rule || rule.when === 'never') continue;
    }
    if (entry.target.kind === 'skip' || (entry.target.kind !== 'local' && !ctx.external)) {
      const why = entry.what.startsWith('include:template') ? "berth does not ship GitLab's templates" : 'berth exec cannot read it here';
      ctx.warn(`${locationPrefix(entry.where)}${entry.what} is skipped (${why}), so the jobs and templates it defines are missing`);
      ctx.onSkipped?.(entry.what);
      continue;
    }
    for (const next of await sourcesOf(entry, source.origin, ctx)) {
      displays.set(next.id, next.display);
      if (chain.includes(next.id)) {
        const names = [...chain.slice(chain.indexOf(next.id)), next.id].map((id) => displays.get(id) ?? (id.startsWith('/') ? displayPath(id, ctx.root) : id));
        throw configError(entry.where, `include cycle: ${names.join(' → ')}`, 'include');
      }
      if (++state.count > MAX_INCLUDES) {
        throw configError(entry.where, `more than ${MAX_INCLUDES} included files; reduce the includes`, 'include');
      }
      merged = mergeMaps(merged, await loadFile(next, chain, ctx, state, entry.where, entry.inputs), ctx.positions);
    }
  }
  return mergeMaps(merged, withoutKeys(value, ['include'], ctx.positions), ctx.positions);
}

/** The files one include entry names, fetched when they are not in the repository. */
async function sourcesOf(entry: IncludeEntry, origin: Origin, ctx: IncludeContext): Promise<Source[]> {
  const target = entry.target;
  const external = ctx.external!;
  const expand = (text: string): string => expandString(text, ctx.lookup);
  switch (target.kind) {
    case 'local': {
      if (origin === null) {
        return (await localPaths(target.local, entry.where, ctx)).map((path) => {
          const file = resolve(ctx.root, path);
          return { id: file, file, display: displayPath(file, ctx.root), origin: null };
        });
      }
      const path = expand(target.local).replace(/^\/+/, '');
      if (path.includes('*')) throw configError(entry.where, `include:local "${target.local}": berth cannot expand wildcards in another project's files (${origin.project}); name the files`, 'include');
      return [await projectSource(origin.project, origin.ref, path, entry, ctx)];
    }
    case 'remote': {
      // Messages and positions show the URL as written, without credentials: a token may be in a variable.
      const shown = withoutUserinfo(target.url);
      const text = await external.remote(expand(target.url), shown, entry.where, target.integrity);
      return [{ id: `remote:${shown}`, file: shown, display: shown, text, origin }];
    }
    case 'project': {
      const project = expand(target.project).replace(/^\/+|\/+$/g, '');
      const ref = target.ref === null ? null : expand(target.ref);
      const out: Source[] = [];
      for (const file of target.files) out.push(await projectSource(project, ref, expand(file).replace(/^\/+/, ''), entry, ctx));
      return out;
    }
    case 'component':
      return [await componentSource(expand(target.address), entry, ctx)];
    case 'skip':
      return [];
  }
}

function withoutUserinfo(url: string): string {
  return url.replace(/^(https?:\/\/)[^/@]*@/i, '$1');
}

async function projectSource(project: string, ref: string | null, path: string, entry: IncludeEntry, ctx: IncludeContext): Promise<Source> {
  if (!/\.ya?ml$/.test(path)) throw configError(entry.where, `${entry.what}: "${path}" is not a YAML file (the name must end in .yml or .yaml)`, 'include');
  const text = await ctx.external!.projects.read(project, ref, path, entry.where, entry.what);
  const display = `${project}${ref === null ? '' : `@${ref}`}:${path}`;
  return { id: `project:${display}`, file: display, display, text, origin: { project, ref } };
}

async function componentSource(address: string, entry: IncludeEntry, ctx: IncludeContext): Promise<Source> {
  const external = ctx.external!;
  const c = parseComponentAddress(address, entry.where);
  // $CI_SERVER_FQDN (a placeholder for an ssh remote) or the host of the remote.
  const fqdn = external.serverFqdn;
  if (fqdn !== null && c.fqdn !== fqdn && c.fqdn !== ctx.lookup('CI_SERVER_FQDN')) {
    throw configError(entry.where, `include:component "${address}": components come from this GitLab instance (${fqdn}, $CI_SERVER_FQDN), not ${c.fqdn}`, 'include');
  }
  let ref = c.version;
  if (isVersionPattern(c.version)) {
    const picked = pickComponentVersion(c.version, await external.projects.tags(c.project, entry.where, entry.what));
    if (picked === null) throw configError(entry.where, `include:component "${address}": ${c.project} has no released version matching ${c.version} (tags like 1.2.3)`, 'include');
    ref = picked;
  }
  for (const path of componentPaths(c.name)) {
    if (await external.projects.exists(c.project, ref, path, entry.where, entry.what)) return projectSource(c.project, ref, path, entry, ctx);
  }
  throw configError(entry.where, `include:component "${address}": ${c.project}@${ref} has neither ${componentPaths(c.name).join(' nor ')}; check the component name`, 'include');
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
      if (/^https?:\/\//i.test(item)) return entry({ kind: 'remote', url: item, integrity: null }, describeInclude('remote', item), at, null, null);
      return entry({ kind: 'local', local: item }, `include:local "${item}"`, at, null, null);
    }
    if (!isMap(item)) throw configError(at, `include must be a path or a map such as {local: path}, not ${describeType(item)}`, 'include');
    const kind = [...SKIPPED, ...EXTERNAL, 'local'].find((k) => hasKey(item, k));
    if (!kind) {
      throw configError(at, `include has none of local, remote, project, template, component (keys: ${Object.keys(item).join(', ')})`, 'include');
    }
    const keyWhere = positions.key(item, kind) ?? at;
    const what = describeInclude(kind, item[kind]);
    const rules = parseRules(item.rules, kind === 'local' ? `include "${typeof item.local === 'string' ? item.local : ''}"` : `include:${kind}`, INCLUDE_RULES, positions, positions.key(item, 'rules'), warn);
    const inputs = item.inputs === undefined || item.inputs === null ? null : item.inputs;
    if (inputs !== null && !isMap(inputs)) throw configError(positions.key(item, 'inputs') ?? at, `include:inputs must be a map of input names and values, not ${describeType(inputs)}`, 'include');
    if (SKIPPED.includes(kind)) return entry({ kind: 'skip' }, what, at, rules, null);
    const str = (key: string): string => expectString(item[key], `include:${key}`, positions.key(item, key) ?? at, 'include');
    switch (kind) {
      case 'remote':
        return entry({ kind: 'remote', url: str('remote'), integrity: item.integrity === undefined ? null : str('integrity') }, what, keyWhere, rules, inputs);
      case 'project': {
        if (!hasKey(item, 'file')) throw configError(keyWhere, `${what} needs file: the path (or list of paths) of the files to include from that project`, 'include');
        const files = Array.isArray(item.file) ? item.file.map((f) => expectString(f, 'include:file', positions.of(f) ?? at, 'include')) : [str('file')];
        const ref = item.ref === undefined || item.ref === null ? null : str('ref');
        return entry({ kind: 'project', project: str('project'), ref, files }, what, keyWhere, rules, inputs);
      }
      case 'component':
        return entry({ kind: 'component', address: str('component') }, what, keyWhere, rules, inputs);
      default: {
        const local = str('local');
        return entry({ kind: 'local', local }, `include:local "${local}"`, keyWhere, rules, inputs);
      }
    }
  });
}

function entry(target: IncludeTarget, what: string, where: Where | undefined, rules: IncludeEntry['rules'], inputs: YamlMap | null): IncludeEntry {
  return { target, what, where, rules, inputs };
}

function describeInclude(kind: string, value: YamlValue | undefined): string {
  return `include:${kind}${typeof value === 'string' ? ` "${kind === 'remote' ? withoutUserinfo(value) : value}"` : ''}`;
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
