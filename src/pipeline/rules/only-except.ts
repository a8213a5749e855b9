/**
 * `only` / `except` (GitLab's legacy policies). A job is in the pipeline when every part of
 * `only` holds (refs, variables, changes, kubernetes) and no part of `except` holds.
 * `changes` is a list of globs (see changes-checker.ts).
 * Without rules, only and except, `only: [branches, tags]` applies.
 * Refs: `branches`, `tags`, a pipeline source (`pushes`, `web`, `merge_requests`, ...), an exact
 * ref name, or `/regex/`; `ref@namespace/project` also checks the project path.
 */
import { conditionHolds, parseCondition, type Condition } from './condition.js';
import type { VariableLookup } from './expression-evaluator.js';
import { expectString, expectStringList } from '../keywords/keyword-values.js';
import { compileRubyRegexp, isRubyRegexpSyntax } from './re2-regexp.js';
import { RegExpTimeoutError, testWithin } from '../../shared/bounded-regexp.js';
import { configError, type SourcePositions, type Where } from '../load/source-positions.js';
import { isMap, type YamlValue } from '../load/yaml-value.js';
import type { ChangesClause, ChangesOutcome } from './changes-checker.js';

export interface PolicyConfig {
  /** `regexp`: a `/pattern/` ref, with where it was written (`what`, `where`) for a pattern stopped at its time limit. */
  refs?: { pattern: string; project?: string; regexp?: { re: RegExp; what: string; where: Where | undefined } }[];
  variables?: Condition[];
  changes?: ChangesClause;
  kubernetes: boolean;
}

export interface PolicyContext {
  ref: string;
  isTag: boolean;
  source: string;
  projectPath: string;
  lookup: VariableLookup;
  /** Whether a changed file matches the globs (true without a base to compare with). */
  changes(clause: ChangesClause): Promise<ChangesOutcome>;
  onKubernetes(): void;
}

const POLICY_KEYS = ['refs', 'variables', 'changes', 'kubernetes'];

export function parsePolicy(value: YamlValue | undefined, owner: string, key: 'only' | 'except', positions: SourcePositions, where: Where | undefined): PolicyConfig | null {
  if (value === undefined || value === null) return null;
  const what = `${owner}: ${key}`;
  if (typeof value === 'string' || Array.isArray(value)) {
    return { refs: parseRefs(value, what, where), kubernetes: false };
  }
  if (!isMap(value)) throw configError(where, `${what} must be a list of refs or a map (refs, variables, changes, kubernetes)`, key);
  for (const k of Object.keys(value)) {
    if (!POLICY_KEYS.includes(k)) throw configError(positions.key(value, k), `${what} has unknown key "${k}" (allowed: ${POLICY_KEYS.join(', ')})`, key);
  }
  const policy: PolicyConfig = { kubernetes: value.kubernetes !== undefined };
  if (value.changes !== undefined) {
    policy.changes = { paths: expectStringList(value.changes, `${what}:changes`, positions.key(value, 'changes'), { allowSingle: true, key }) };
  }
  if (value.refs !== undefined) policy.refs = parseRefs(value.refs, `${what}:refs`, positions.key(value, 'refs'));
  if (value.variables !== undefined) {
    const at = positions.key(value, 'variables');
    policy.variables = expectStringList(value.variables, `${what}:variables`, at, { allowSingle: true, key })
      .map((text) => parseCondition(text, `${what}:variables`, at));
  }
  if (policy.kubernetes) expectString(value.kubernetes, `${what}:kubernetes`, positions.key(value, 'kubernetes'), key);
  return policy;
}

function parseRefs(value: YamlValue, what: string, where: Where | undefined): PolicyConfig['refs'] {
  return expectStringList(value, what, where, { allowSingle: true }).map((text) => {
    const at = text.indexOf('@');
    const pattern = at < 0 ? text : text.slice(0, at);
    const ref: NonNullable<PolicyConfig['refs']>[number] = { pattern };
    if (at >= 0) ref.project = text.slice(at + 1);
    if (pattern.length > 2 && isRubyRegexpSyntax(pattern)) {
      try {
        ref.regexp = { re: compileRubyRegexp(pattern), what, where };
      } catch (err) {
        throw configError(where, `${what}: invalid regular expression ${pattern}: ${(err as Error).message}`);
      }
    }
    return ref;
  });
}

export type PolicyPart = 'refs' | 'variables' | 'changes' | 'kubernetes';

export interface PolicyPartResult {
  part: PolicyPart;
  holds: boolean;
  /** For changes: the changed path that matched, or why there was nothing to compare with. */
  detail?: string;
  /** For changes: true when there was nothing to compare with (the part then holds). */
  noBase?: boolean;
}

/**
 * The parts of the policy and whether they hold, in order, up to the first part whose result is
 * `stopAt` (`only` needs all of them, `except` any): changes are only listed when needed.
 */
export async function policyParts(policy: PolicyConfig, ctx: PolicyContext, stopAt?: boolean): Promise<PolicyPartResult[]> {
  const parts: PolicyPartResult[] = [];
  const done = () => stopAt !== undefined && parts.length > 0 && parts[parts.length - 1]!.holds === stopAt;
  if (policy.refs) parts.push({ part: 'refs', holds: policy.refs.some((r) => refMatches(r, ctx)) });
  if (!done() && policy.variables) parts.push({ part: 'variables', holds: policy.variables.some((c) => conditionHolds(c, ctx.lookup)) });
  if (!done() && policy.changes) {
    const outcome = await ctx.changes(policy.changes);
    if (!outcome.holds) parts.push({ part: 'changes', holds: false });
    else if ('noBase' in outcome) parts.push({ part: 'changes', holds: true, detail: outcome.noBase, noBase: true });
    else parts.push({ part: 'changes', holds: true, detail: outcome.path });
  }
  if (!done() && policy.kubernetes) {
    ctx.onKubernetes();
    parts.push({ part: 'kubernetes', holds: false });
  }
  return parts;
}

/** Why `only` leaves the job out (the first part that does not hold), or null when it does not. */
export async function onlyExcludes(policy: PolicyConfig, ctx: PolicyContext): Promise<string | null> {
  const failed = (await policyParts(policy, ctx, false)).find((p) => !p.holds);
  if (!failed) return null;
  switch (failed.part) {
    case 'refs':
      return `only:refs does not match ref "${ctx.ref}" (pipeline source ${ctx.source})`;
    case 'variables':
      return 'only:variables: no expression holds';
    case 'changes':
      return `only:changes: no changed path matches ${policy.changes!.paths.join(', ')}`;
    case 'kubernetes':
      return 'only:kubernetes: cannot be checked locally and counts as not active';
  }
}

/** Why `except` leaves the job out (the first part that holds), or null when it does not. */
export async function exceptExcludes(policy: PolicyConfig, ctx: PolicyContext): Promise<string | null> {
  const matched = (await policyParts(policy, ctx, true)).find((p) => p.holds);
  if (!matched) return null;
  switch (matched.part) {
    case 'refs':
      return `except:refs matches ref "${ctx.ref}" (pipeline source ${ctx.source})`;
    case 'variables':
      return 'except:variables: an expression holds';
    case 'changes':
      return matched.noBase ? `except:changes: counts as changed (${matched.detail})` : `except:changes: a path changed (${matched.detail})`;
    default:
      return `except:${matched.part} holds`;
  }
}

function refMatches(ref: NonNullable<PolicyConfig['refs']>[number], ctx: PolicyContext): boolean {
  if (ref.project !== undefined && ref.project !== ctx.projectPath) return false;
  const p = ref.pattern;
  if (p === 'tags' && ctx.isTag) return true;
  if (p === 'branches' && !ctx.isTag) return true;
  const source = ctx.source === 'merge_request_event' ? 'merge_request' : ctx.source;
  if (source && (p === source || p === pluralize(source))) return true;
  if (ref.regexp) {
    try {
      return testWithin(ref.regexp.re, ctx.ref);
    } catch (err) {
      if (err instanceof RegExpTimeoutError) throw configError(ref.regexp.where, `${ref.regexp.what}: ${err.message}`);
      throw err;
    }
  }
  return p === ctx.ref;
}

function pluralize(word: string): string {
  return /(s|sh|ch|x)$/.test(word) ? `${word}es` : `${word}s`;
}
