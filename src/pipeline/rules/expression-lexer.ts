/**
 * Tokens of GitLab's CI/CD variable expressions (`rules:if`, `only:variables`), scanned in
 * GitLab's order: ( ) $VAR "string" 'string' /pattern/flags null true false == =~ != !~ && ||.
 * At most 100 tokens, as in GitLab.
 */
import { BerthError } from '../../shared/errors.js';

export type ValueNode =
  | { type: 'variable'; name: string }
  | { type: 'string'; value: string }
  | { type: 'pattern'; source: string }
  | { type: 'null' }
  | { type: 'boolean'; value: boolean };

export type Operator = '==' | '!=' | '=~' | '!~' | '&&' | '||';

export type Token =
  | { kind: 'open'; at: number }
  | { kind: 'close'; at: number }
  | { kind: 'value'; node: ValueNode; at: number }
  | { kind: 'operator'; op: Operator; at: number };

export class ExpressionSyntaxError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('expression_syntax', message, options);
  }
}

export const MAX_TOKENS = 100;

/**
 * A `/…/flags` pattern; `\/` inside is a slash. (GitLab's own lexeme regexp also needs two
 * characters between the slashes, which rejects `/x/`; berth accepts it.)
 */
const PATTERN = /^\/(?:\\.|[^/\\])+\/[ismU]*/;
const VARIABLE = /^\$(\w+)/;
const STRING = /^(?:"(.*?)"|'(.*?)')/;
const INPUT = /^\$\[\[\s*inputs\.[\w-]+\s*\]\]/;

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  while (true) {
    while (pos < text.length && /\s/.test(text[pos]!)) pos++;
    if (pos >= text.length) return tokens;
    if (tokens.length >= MAX_TOKENS) throw new ExpressionSyntaxError(`more than ${MAX_TOKENS} tokens`);
    const rest = text.slice(pos);
    const token = scanOne(rest, pos);
    if (!token) throw new ExpressionSyntaxError(`unexpected text at position ${pos + 1}: ${excerpt(rest)}`);
    tokens.push(token.token);
    pos += token.length;
  }
}

function scanOne(rest: string, at: number): { token: Token; length: number } | null {
  const c = rest[0];
  if (c === '(') return { token: { kind: 'open', at }, length: 1 };
  if (c === ')') return { token: { kind: 'close', at }, length: 1 };
  if (INPUT.test(rest)) throw new ExpressionSyntaxError('CI/CD inputs ($[[ inputs.* ]]) are not supported by berth exec yet');
  let m = VARIABLE.exec(rest);
  if (m) return value({ type: 'variable', name: m[1]! }, m[0].length, at);
  m = STRING.exec(rest);
  if (m) return value({ type: 'string', value: m[1] ?? m[2] ?? '' }, m[0].length, at);
  m = PATTERN.exec(rest);
  if (m) return value({ type: 'pattern', source: m[0].replace(/\\\//g, '/') }, m[0].length, at);
  if (rest.startsWith('null')) return value({ type: 'null' }, 4, at);
  if (rest.startsWith('true')) return value({ type: 'boolean', value: true }, 4, at);
  if (rest.startsWith('false')) return value({ type: 'boolean', value: false }, 5, at);
  for (const op of ['==', '=~', '!=', '!~', '&&', '||'] as const) {
    if (rest.startsWith(op)) return { token: { kind: 'operator', op, at }, length: 2 };
  }
  return null;
}

function value(node: ValueNode, length: number, at: number): { token: Token; length: number } {
  return { token: { kind: 'value', node, at }, length };
}

function excerpt(text: string): string {
  return JSON.stringify(text.length > 20 ? `${text.slice(0, 20)}…` : text);
}
