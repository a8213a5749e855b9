/**
 * `rules:` (jobs, workflow, include): the first rule whose clauses all hold decides; a rule
 * without clauses always holds; no rule holding means `when: never`. Clauses: `if`
 * (expression), `exists` (globs against the project's files), `changes` (globs against the
 * changed files, a list or `{paths, compare_to}`; see changes-checker.ts).
 */
import { parseAllowFailure, type AllowFailure } from '../keywords/allow-failure-config.js';
import { conditionHolds, parseCondition, type Condition } from './condition.js';
import { flattenList } from '../keywords/flatten-list.js';
import { expectStringList } from '../keywords/keyword-values.js';
import { parseNeeds, type NeedConfig } from '../keywords/needs-config.js';
import { configError, type SourcePositions, type Where } from '../load/source-positions.js';
import { parseVariables, type ConfigVariable } from '../keywords/variables-config.js';
import { describeType, isMap, type YamlValue } from '../load/yaml-value.js';
import type { VariableLookup } from './expression-evaluator.js';
import type { ChangesClause, ChangesOutcome } from './changes-checker.js';

export type RuleWhen = 'on_success' | 'on_failure' | 'always' | 'manual' | 'never' | 'delayed';

export interface RuleConfig {
  where: Where | undefined;
  if?: Condition;
  changes?: ChangesClause;
  exists?: string[];
  when?: RuleWhen;
  allowFailure?: AllowFailure;
  variables: ConfigVariable[];
  needs?: NeedConfig[] | null;
}

export interface RuleSyntax {
  /** Keys a rule may have here. */
  keys: readonly string[];
  /** `when` values a rule may have here. */
  when: readonly RuleWhen[];
}

export const JOB_RULES: RuleSyntax = {
  keys: ['if', 'changes', 'exists', 'when', 'allow_failure', 'variables', 'needs', 'start_in', 'interruptible'],
  when: ['on_success', 'on_failure', 'always', 'manual', 'never', 'delayed'],
};
export const WORKFLOW_RULES: RuleSyntax = { keys: ['if', 'changes', 'exists', 'when', 'variables', 'auto_cancel'], when: ['always', 'never'] };
export const INCLUDE_RULES: RuleSyntax = { keys: ['if', 'changes', 'exists', 'when'], when: ['always', 'never'] };

export interface RuleContext {
  lookup: VariableLookup;
  /** True when a file of the project matches one of the globs. */
  exists(patterns: string[]): Promise<boolean>;
  /** Whether a changed file matches the clause (true without a base to compare with). */
  changes(clause: ChangesClause): Promise<ChangesOutcome>;
}

export function parseRules(
  value: YamlValue | undefined,
  owner: string,
  syntax: RuleSyntax,
  positions: SourcePositions,
  where: Where | undefined,
  warn: (message: string) => void,
): RuleConfig[] | null {
  if (value === undefined || value === null) return null;
  if (!Array.isArray(value)) throw configError(where, `${owner}: rules must be a list of rules`, 'rules');
  // Nested lists (`- !reference [.defaults, rules]`) are flattened, as GitLab's Entry::Rules does.
  return flattenList(value, positions, where).map((item, i) => parseRule(item.value, `${owner}: rules[${i}]`, syntax, positions, item.where, warn));
}

function parseRule(item: YamlValue, what: string, syntax: RuleSyntax, positions: SourcePositions, at: Where | undefined, warn: (m: string) => void): RuleConfig {
  if (!isMap(item)) throw configError(at, `${what} must be a map (if, when, ...), not ${describeType(item)}`, 'rules');
  for (const key of Object.keys(item)) {
    if (!syntax.keys.includes(key)) {
      throw configError(positions.key(item, key), `${what} has unknown key "${key}" (allowed: ${syntax.keys.join(', ')})`, 'rules');
    }
  }
  const rule: RuleConfig = { where: at, variables: [] };
  if (item.if !== undefined) rule.if = parseCondition(item.if, `${what}: if`, positions.key(item, 'if'));
  if (item.changes !== undefined) rule.changes = parseRuleChanges(item.changes, what, positions, positions.key(item, 'changes'));
  if (item.exists !== undefined) rule.exists = existsPatterns(item.exists, what, positions, positions.key(item, 'exists'), warn);
  if (item.when !== undefined) {
    if (typeof item.when !== 'string' || !syntax.when.includes(item.when as RuleWhen)) {
      throw configError(positions.key(item, 'when'), `${what}: when must be one of ${syntax.when.join(', ')}`, 'rules');
    }
    rule.when = item.when as RuleWhen;
  }
  if (item.allow_failure !== undefined) rule.allowFailure = parseAllowFailure(item.allow_failure, what, positions, positions.key(item, 'allow_failure'));
  if (item.variables !== undefined) rule.variables = parseVariables(item.variables, what, positions, positions.key(item, 'variables'));
  if (item.needs !== undefined) rule.needs = parseNeeds(item.needs, what, positions, positions.key(item, 'needs'), warn);
  return rule;
}

function existsPatterns(value: YamlValue, what: string, positions: SourcePositions, where: Where | undefined, warn: (m: string) => void): string[] {
  if (isMap(value)) {
    const map = value;
    if (map.project !== undefined) warn(`${what}: exists:project cannot be checked locally; the working tree of this project is used`);
    return expectStringList(map.paths, `${what}: exists:paths`, positions.key(map, 'paths'), { allowSingle: true, key: 'rules' });
  }
  return expectStringList(value, `${what}: exists`, where, { allowSingle: true, key: 'rules' });
}

/** `changes: [globs]` or `changes: {paths: [globs], compare_to: ref}` (GitLab's Entry::Rules::Rule::Changes). */
function parseRuleChanges(value: YamlValue, what: string, positions: SourcePositions, where: Where | undefined): ChangesClause {
  if (!isMap(value)) return { paths: expectStringList(value, `${what}: changes`, where, { key: 'rules' }), where };
  for (const key of Object.keys(value)) {
    if (key !== 'paths' && key !== 'compare_to') {
      throw configError(positions.key(value, key), `${what}: changes has unknown key "${key}" (allowed: paths, compare_to)`, 'rules');
    }
  }
  if (value.paths === undefined) throw configError(where, `${what}: changes:paths is required when changes is a map`, 'rules');
  const clause: ChangesClause = { paths: expectStringList(value.paths, `${what}: changes:paths`, positions.key(value, 'paths'), { key: 'rules' }), where };
  if (value.compare_to !== undefined) {
    if (typeof value.compare_to !== 'string') throw configError(positions.key(value, 'compare_to'), `${what}: changes:compare_to must be a string (a branch, tag or commit)`, 'rules');
    clause.compareTo = value.compare_to;
    clause.where = positions.key(value, 'compare_to') ?? where;
  }
  return clause;
}

/** The first rule that holds, or null (the job or pipeline is then not created). */
export async function firstMatchingRule(rules: RuleConfig[], ctx: RuleContext): Promise<RuleConfig | null> {
  for (const rule of rules) {
    if (rule.if && !conditionHolds(rule.if, ctx.lookup)) continue;
    if (rule.exists && !(await ctx.exists(rule.exists))) continue;
    if (rule.changes && !(await ctx.changes(rule.changes)).holds) continue;
    return rule;
  }
  return null;
}
