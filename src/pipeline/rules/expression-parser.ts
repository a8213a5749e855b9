/**
 * Parses a CI/CD variable expression into a tree. Precedence as in GitLab: comparisons
 * (== != =~ !~) bind tighter than &&, which binds tighter than ||; all left-associative;
 * parentheses group.
 */
import { ExpressionSyntaxError, tokenize, type Operator, type Token, type ValueNode } from './expression-lexer.js';
import { compileRubyRegexp } from './re2-regexp.js';

export type ExpressionNode = ValueNode | { type: 'binary'; op: Operator; left: ExpressionNode; right: ExpressionNode };

const PRECEDENCE: Record<Operator, number> = { '||': 1, '&&': 2, '==': 3, '!=': 3, '=~': 3, '!~': 3 };

export function parseExpression(text: string): ExpressionNode {
  const tokens = tokenize(text);
  if (tokens.length === 0) throw new ExpressionSyntaxError('the expression is empty');
  const parser = new Parser(tokens);
  const node = parser.expression(1);
  parser.expectEnd();
  return node;
}

class Parser {
  private pos = 0;

  constructor(private readonly tokens: Token[]) {}

  expression(minPrecedence: number): ExpressionNode {
    let left = this.primary();
    for (;;) {
      const t = this.tokens[this.pos];
      if (!t || t.kind !== 'operator' || PRECEDENCE[t.op] < minPrecedence) return left;
      this.pos++;
      const right = this.expression(PRECEDENCE[t.op] + 1);
      left = { type: 'binary', op: t.op, left, right };
    }
  }

  expectEnd(): void {
    const t = this.tokens[this.pos];
    if (!t) return;
    if (t.kind === 'close') throw new ExpressionSyntaxError(`unmatched ")" at position ${t.at + 1}`);
    throw new ExpressionSyntaxError(`expected an operator (==, !=, =~, !~, &&, ||) at position ${t.at + 1}`);
  }

  private primary(): ExpressionNode {
    const t = this.tokens[this.pos++];
    if (!t) throw new ExpressionSyntaxError('the expression ends where a value was expected');
    if (t.kind === 'value') {
      if (t.node.type === 'pattern') checkPattern(t.node.source);
      return t.node;
    }
    if (t.kind === 'open') {
      const inner = this.expression(1);
      const close = this.tokens[this.pos++];
      if (!close || close.kind !== 'close') throw new ExpressionSyntaxError(`unmatched "(" at position ${t.at + 1}`);
      return inner;
    }
    if (t.kind === 'close') throw new ExpressionSyntaxError(`unexpected ")" at position ${t.at + 1}`);
    throw new ExpressionSyntaxError(`operator ${t.op} at position ${t.at + 1} has no left-hand value`);
  }
}

function checkPattern(source: string): void {
  try {
    compileRubyRegexp(source);
  } catch (err) {
    throw new ExpressionSyntaxError(`invalid regular expression ${source}: ${(err as Error).message}`);
  }
}
