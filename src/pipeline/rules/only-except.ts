/**
 * `only` / `except` (GitLab's legacy policies). A job is in the pipeline when every part of
 * `only` holds (refs, variables, changes, kubernetes) and no part of `except` holds.
 * Without rules, only and except, `only: [branches, tags]` applies.
 * Refs: `branches`, `tags`, a pipeline source (`pushes`, `web`, `merge_requests`, ...), an exact
 * ref name, or `/regex/`; `ref@namespace/project` also checks the project path.
 */
import { conditionHolds, parseCondition, type Condition } from './condition.js';
import type { VariableLookup } from './expression-evaluator.js';
import { expectString, expectStringList } from '../keywords/keyword-values.js';
import { compileRubyRegexp, isRubyRegexpSyntax } from './re2-regexp.js';
import { configError, type SourcePositions, type Where } from '../load/source-positions.js';
import { isMap, type YamlValue } from '../load/yaml-value.js';

export interface PolicyConfig {
  refs?: { pattern: string; project?: string; regexp?: RegExp }[];
  variables?: Condition[];
  changes: boolean;
  kubernetes: boolean;
}

export interface PolicyContext {
  ref: string;
  isTag: boolean;
  source: string;
  projectPath: string;
  lookup: VariableLookup;
  onChanges(): void;
  onKubernetes(): void;
}

const POLICY_KEYS = ['refs', 'variables', 'changes', 'kubernetes'];

export function parsePolicy(value: YamlValue | undefined, owner: string, key: 'only' | 'except', positions: SourcePositions, where: Where | undefined): PolicyConfig | null {
  if (value === undefined || value === null) return null;
  const what = `${owner}: ${key}`;
  if (typeof value === 'string' || Array.isArray(value)) {
    return { refs: parseRefs(value, what, where), changes: false, kubernetes: false };
  }
  if (!isMap(value)) throw configError(where, `${what} must be a list of refs or a map (refs, variables, changes, kubernetes)`, key);
  for (const k of Object.keys(value)) {
    if (!POLICY_KEYS.includes(k)) throw configError(positions.key(value, k), `${what} has unknown key "${k}" (allowed: ${POLICY_KEYS.join(', ')})`, key);
  }
  const policy: PolicyConfig = { changes: value.changes !== undefined, kubernetes: value.kubernetes !== undefined };
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
        ref.regexp = compileRubyRegexp(pattern);
      } catch (err) {
        throw configError(where, `${what}: invalid regular expression ${pattern}: ${(err as Error).message}`);
      }
    }
    return ref;
  });
}

export type PolicyPart = 'refs' | 'variables' | 'changes' | 'kubernetes';

/** Each part of the policy and whether it holds: `only` needs all of them, `except` any. */
export function policyParts(policy: PolicyConfig, ctx: PolicyContext): { part: PolicyPart; holds: boolean }[] {
  const parts: { part: PolicyPart; holds: boolean }[] = [];
  if (policy.refs) parts.push({ part: 'refs', holds: policy.refs.some((r) => refMatches(r, ctx)) });
  if (policy.variables) parts.push({ part: 'variables', holds: policy.variables.some((c) => conditionHolds(c, ctx.lookup)) });
  if (policy.changes) {
    ctx.onChanges();
    parts.push({ part: 'changes', holds: true });
  }
  if (policy.kubernetes) {
    ctx.onKubernetes();
    parts.push({ part: 'kubernetes', holds: false });
  }
  return parts;
}

/** Why `only` leaves the job out (the first part that does not hold), or null when it does not. */
export function onlyExcludes(policy: PolicyConfig, ctx: PolicyContext): string | null {
  const failed = policyParts(policy, ctx).find((p) => !p.holds);
  if (!failed) return null;
  switch (failed.part) {
    case 'refs':
      return `only:refs does not match ref "${ctx.ref}" (pipeline source ${ctx.source})`;
    case 'variables':
      return 'only:variables: no expression holds';
    case 'kubernetes':
      return 'only:kubernetes: cannot be checked locally and counts as not active';
    default:
      return `only:${failed.part} does not hold`;
  }
}

/** Why `except` leaves the job out (the first part that holds), or null when it does not. */
export function exceptExcludes(policy: PolicyConfig, ctx: PolicyContext): string | null {
  const matched = policyParts(policy, ctx).find((p) => p.holds);
  if (!matched) return null;
  switch (matched.part) {
    case 'refs':
      return `except:refs matches ref "${ctx.ref}" (pipeline source ${ctx.source})`;
    case 'variables':
      return 'except:variables: an expression holds';
    case 'changes':
      return 'except:changes: counts as changed (berth exec cannot evaluate changes locally)';
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
  if (ref.regexp) return ref.regexp.test(ctx.ref);
  return p === ctx.ref;
}

function pluralize(word: string): string {
  return /(s|sh|ch|x)$/.test(word) ? `${word}es` : `${word}s`;
}
