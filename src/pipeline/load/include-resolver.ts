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
import { firstMatchingRule, type RuleContext } from '../rules/rules.js';
import { configError, locationPrefix, type SourcePositions, type Where } from './source-positions.js';
import { expandWildcard } from './wildcard-paths.js';
import type { YamlLimits } from './yaml-converter.js';
import { loadYamlFile, parseYamlText, type LoadedYaml } from './yaml-loader.js';
import { componentPaths, isVersionPattern, parseComponentAddress, pickComponentVersion } from './component-include.js';
import type { ExternalIncludes } from './external-includes.js';
import { parseEntries, withoutUserinfo, type IncludeEntry } from './include-entries.js';
import { describeType, hasKey, isMap, newMap, type YamlMap } from './yaml-value.js';
import { IncludeUnavailableError } from './include-unavailable.js';

export const MAX_INCLUDES = 150;


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
  /** The main file, already being read and parsed (preloadMainFile) while git runs. */
  main?: Promise<LoadedYaml>;
}

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


export async function loadConfig(file: string, ctx: IncludeContext): Promise<YamlMap> {
  const state = { count: 0 };
  const path = resolve(file);
  return loadFile({ id: path, file: path, display: displayPath(path, ctx.root), origin: null }, [], ctx, state, undefined, null);
}

/**
 * Starts reading and parsing the main file, with the same checks as loadConfig, so that it
 * overlaps the git processes that tell the variables includes need; pass the promise to
 * loadConfig as `ctx.main` (its error, if any, surfaces there).
 */
export function preloadMainFile(file: string, ctx: Pick<IncludeContext, 'root' | 'positions' | 'limits' | 'mainFileNamed'>): Promise<LoadedYaml> {
  const path = resolve(file);
  const display = displayPath(path, ctx.root);
  const loading = (async () => {
    if (!ctx.mainFileNamed) await checkInsideRoot(path, display, undefined, ctx);
    return loadYamlFile(path, display, ctx.positions, ctx.limits);
  })();
  loading.catch(() => undefined); // reported by loadConfig; not an unhandled rejection meanwhile
  return loading;
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
  if (stack.length === 0 && ctx.main) {
    loaded = await ctx.main;
  } else if (source.text === undefined) {
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
    ? interpolateInputs(loaded.value, { spec: loaded.spec.value, specWhere: loaded.spec.where, given: inputs, givenWhere: from }, ctx.positions, ctx.lookup)
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
    let sources: Source[];
    try {
      sources = await sourcesOf(entry, source.origin, ctx);
    } catch (err) {
      if (!(err instanceof IncludeUnavailableError)) throw err;
      ctx.warn(`${err.message}; it is skipped, so the jobs and templates it defines are missing`);
      ctx.onSkipped?.(entry.what);
      continue;
    }
    for (const next of sources) {
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

async function checkInsideRoot(file: string, display: string, from: Where | undefined, ctx: Pick<IncludeContext, 'root'>): Promise<void> {
  try {
    await resolveInside(ctx.root, file);
  } catch (err) {
    if (!(err instanceof FsGuardError)) throw err;
    const hint = from ? '' : ' (name a pipeline file outside the repository explicitly with --file)';
    throw new InputError(`${locationPrefix(from ?? { file, display, line: 1 })}${err.message}${hint}`, { file, line: from?.line }, { cause: err });
  }
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
