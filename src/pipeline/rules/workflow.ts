/**
 * `workflow: rules`: whether GitLab would create the pipeline at all, and the variables the
 * matching rule adds. No rule matching, or a matching `when: never`, means no pipeline.
 */
import { configError, locationPrefix, type SourcePositions, type Where } from '../load/source-positions.js';
import { firstMatchingRule, parseRules, WORKFLOW_RULES, type RuleConfig, type RuleContext } from './rules.js';
import type { ConfigVariable } from '../keywords/variables-config.js';
import { describeType, isMap, type YamlValue } from '../load/yaml-value.js';

export interface WorkflowDecision {
  run: boolean;
  /** Why there is no pipeline. */
  reason?: string;
  variables: ConfigVariable[];
}

const WORKFLOW_KEYS = ['rules', 'name', 'auto_cancel'];

export function parseWorkflow(value: YamlValue | undefined, positions: SourcePositions, where: Where | undefined, warn: (m: string) => void): RuleConfig[] | null {
  if (value === undefined || value === null) return null;
  if (!isMap(value)) throw configError(where, `workflow must be a map (rules, name, auto_cancel), not ${describeType(value)}`, 'workflow');
  for (const key of Object.keys(value)) {
    if (!WORKFLOW_KEYS.includes(key)) throw configError(positions.key(value, key), `workflow has unknown key "${key}" (allowed: ${WORKFLOW_KEYS.join(', ')})`, 'workflow');
  }
  return parseRules(value.rules, 'workflow', WORKFLOW_RULES, positions, positions.key(value, 'rules'), warn);
}

/**
 * `workflow:name`, the pipeline's name (CI_PIPELINE_NAME), as written; null when there is none.
 * GitLab's Entry::Workflow: a string of at most 255 characters.
 */
export function parseWorkflowName(value: YamlValue | undefined, positions: SourcePositions): string | null {
  if (!isMap(value) || value.name === undefined || value.name === null) return null;
  const name = value.name;
  const where = positions.key(value, 'name');
  if (typeof name !== 'string') throw configError(where, `workflow:name must be a string, not ${describeType(name)}`, 'workflow');
  if (name.length > 255) throw configError(where, `workflow:name is too long (maximum is 255 characters, it has ${name.length})`, 'workflow');
  return name;
}

export async function decideWorkflow(rules: RuleConfig[] | null, ctx: RuleContext, where: Where | undefined): Promise<WorkflowDecision> {
  if (!rules) return { run: true, variables: [] };
  const rule = await firstMatchingRule(rules, ctx);
  if (!rule) {
    return { run: false, variables: [], reason: `${locationPrefix(where)}workflow:rules: no rule matched, so GitLab would not create this pipeline` };
  }
  if (rule.when === 'never') {
    return { run: false, variables: [], reason: `${locationPrefix(rule.where)}workflow:rules: the matching rule says when: never, so GitLab would not create this pipeline` };
  }
  return { run: true, variables: rule.variables };
}
