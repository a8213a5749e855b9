/** A parsed `if:` / `only:variables` expression, with the place it was written. */
import { evaluateExpression, type VariableLookup } from './expression-evaluator.js';
import { ExpressionSyntaxError } from './expression-lexer.js';
import { RegExpTimeoutError } from '../../shared/bounded-regexp.js';
import { parseExpression, type ExpressionNode } from './expression-parser.js';
import { configError, type Where } from '../load/source-positions.js';
import type { YamlValue } from '../load/yaml-value.js';

export interface Condition {
  text: string;
  tree: ExpressionNode;
  where: Where | undefined;
}

/** Parses `value` as an expression; `what` names it in messages, e.g. `job "x": rules:if`. */
export function parseCondition(value: YamlValue | undefined, what: string, where: Where | undefined): Condition {
  if (typeof value !== 'string') throw configError(where, `${what} must be an expression string such as '$CI_COMMIT_BRANCH == "main"'`);
  try {
    return { text: value, tree: parseExpression(value), where };
  } catch (err) {
    if (err instanceof ExpressionSyntaxError) {
      throw configError(where, `${what}: invalid expression ${JSON.stringify(value)}: ${err.message}`);
    }
    throw err;
  }
}

/**
 * Runtime problems (a bad pattern in a variable) make the condition false, as in GitLab. A
 * pattern stopped at its time limit is an error naming the condition: GitLab (RE2) would have
 * an answer, berth has none.
 */
export function conditionHolds(condition: Condition, lookup: VariableLookup): boolean {
  try {
    return evaluateExpression(condition.tree, lookup);
  } catch (err) {
    if (err instanceof RegExpTimeoutError) throw configError(condition.where, `${JSON.stringify(condition.text)}: ${err.message}`);
    return false;
  }
}
