/**
 * Evaluates a parsed expression with GitLab's (Ruby) semantics: an undefined variable is nil;
 * `&&`/`||` return one of their operands; `=~` matches `text.to_s` (nil is ""); a variable on
 * the right of `=~` that holds `/…/` is used as a pattern, any other string is searched for
 * the left text. The result counts as true when it is "present": not nil, false or blank.
 */
import type { ExpressionNode } from './expression-parser.js';
import { testWithin } from '../../shared/bounded-regexp.js';
import { compileRubyRegexp, isRubyRegexpSyntax } from './re2-regexp.js';

type Value = string | boolean | null | RegExp;

export type VariableLookup = (name: string) => string | undefined;

export function evaluateExpression(node: ExpressionNode, lookup: VariableLookup): boolean {
  return present(evaluate(node, lookup));
}

function evaluate(node: ExpressionNode, lookup: VariableLookup): Value {
  switch (node.type) {
    case 'variable':
      return lookup(node.name) ?? null;
    case 'string':
      return node.value;
    case 'null':
      return null;
    case 'boolean':
      return node.value;
    case 'pattern':
      return compileRubyRegexp(node.source);
    case 'binary': {
      if (node.op === '&&') {
        const left = evaluate(node.left, lookup);
        return truthy(left) ? evaluate(node.right, lookup) : left;
      }
      if (node.op === '||') {
        const left = evaluate(node.left, lookup);
        return truthy(left) ? left : evaluate(node.right, lookup);
      }
      const left = evaluate(node.left, lookup);
      const right = evaluate(node.right, lookup);
      if (node.op === '==') return equal(left, right);
      if (node.op === '!=') return !equal(left, right);
      const matched = matches(left, right);
      if (node.op === '=~') return matched ?? false;
      return matched === null ? true : !matched;
    }
  }
}

function equal(a: Value, b: Value): boolean {
  if (a instanceof RegExp || b instanceof RegExp) {
    return a instanceof RegExp && b instanceof RegExp && a.source === b.source && a.flags === b.flags;
  }
  return a === b;
}

/** null when there is nothing to match with (nil or false on the right). */
function matches(left: Value, right: Value): boolean | null {
  if (right === null || right === false) return null;
  const text = left === null ? '' : String(left instanceof RegExp ? `/${left.source}/` : left);
  if (right instanceof RegExp) return testWithin(right, text);
  if (typeof right === 'string' && isRubyRegexpSyntax(right)) {
    let re: RegExp;
    try {
      re = compileRubyRegexp(right);
    } catch {
      return right.includes(text);
    }
    return testWithin(re, text);
  }
  if (typeof right === 'string') return right.includes(text);
  return false;
}

/** Ruby truthiness: only nil and false are false. */
function truthy(v: Value): boolean {
  return v !== null && v !== false;
}

/** ActiveSupport `present?`: nil, false and blank strings are not. */
function present(v: Value): boolean {
  if (v === null || v === false) return false;
  if (typeof v === 'string') return /\S/.test(v);
  return true;
}
