import { describe, expect, it } from 'vitest';
import { evaluateExpression } from './expression-evaluator.js';
import { ExpressionSyntaxError, tokenize } from './expression-lexer.js';
import { parseExpression } from './expression-parser.js';
import { compileRe2, compileRubyRegexp } from './re2-regexp.js';

const VARS: Record<string, string> = {
  BRANCH: 'main',
  EMPTY: '',
  BLANK: '   ',
  TAG: 'v1.2.3',
  PATTERN: '/^feature-/',
  PLAIN: 'hello world',
  NAME: 'feature-x',
};

const holds = (text: string, vars: Record<string, string> = VARS): boolean =>
  evaluateExpression(parseExpression(text), (k) => vars[k]);

const syntaxError = (text: string): string => {
  try {
    parseExpression(text);
  } catch (err) {
    if (err instanceof ExpressionSyntaxError) return err.message;
    throw err;
  }
  throw new Error(`parsed: ${text}`);
};

describe('expression lexer', () => {
  it('scans every lexeme GitLab has', () => {
    const kinds = tokenize(`($A == "x" || $B != 'y') && $C =~ /re\\/x/i && $D !~ /ab/ && $E == null && true`).map((t) =>
      t.kind === 'value' ? t.node.type : t.kind === 'operator' ? t.op : t.kind);
    expect(kinds).toEqual([
      'open', 'variable', '==', 'string', '||', 'variable', '!=', 'string', 'close', '&&',
      'variable', '=~', 'pattern', '&&', 'variable', '!~', 'pattern', '&&', 'variable', '==', 'null', '&&', 'boolean',
    ]);
  });

  it('unescapes \\/ in patterns and keeps the flags', () => {
    const token = tokenize('/a\\/b/im')[0]!;
    expect(token.kind === 'value' && token.node).toEqual({ type: 'pattern', source: '/a/b/im' });
  });

  it('takes strings without escapes, up to the next quote', () => {
    const token = tokenize(`"it's"`)[0]!;
    expect(token.kind === 'value' && token.node).toEqual({ type: 'string', value: "it's" });
  });

  it('rejects unknown text and more than 100 tokens', () => {
    expect(() => tokenize('$A = "x"')).toThrow(/unexpected text at position 4/);
    expect(() => tokenize(Array(60).fill('$A').join(' || '))).toThrow(/more than 100 tokens/);
  });
});

describe('expression parser', () => {
  it('gives comparisons precedence over && and && over ||', () => {
    expect(parseExpression('$A || $B && $C == "x"')).toEqual({
      type: 'binary', op: '||', left: { type: 'variable', name: 'A' },
      right: { type: 'binary', op: '&&', left: { type: 'variable', name: 'B' }, right: { type: 'binary', op: '==', left: { type: 'variable', name: 'C' }, right: { type: 'string', value: 'x' } } },
    });
  });

  it('reports malformed expressions', () => {
    expect(syntaxError('')).toBe('the expression is empty');
    expect(syntaxError('$A ==')).toBe('the expression ends where a value was expected');
    expect(syntaxError('== "x"')).toMatch(/has no left-hand value/);
    expect(syntaxError('($A == "x"')).toMatch(/unmatched "\("/);
    expect(syntaxError('$A == "x")')).toMatch(/unmatched "\)"/);
    expect(syntaxError('$A $B')).toMatch(/expected an operator/);
    expect(syntaxError('$A =~ /a(/')).toMatch(/invalid regular expression/);
  });
});

describe('expression evaluation (GitLab semantics)', () => {
  it.each([
    ['$BRANCH == "main"', true],
    ['$BRANCH == \'main\'', true],
    ['$BRANCH != "main"', false],
    ['$UNDEFINED == null', true],
    ['$EMPTY == null', false],
    ['$EMPTY == ""', true],
    ['$UNDEFINED == ""', false],
    ['$BRANCH', true],
    ['$EMPTY', false],
    ['$BLANK', false],
    ['$UNDEFINED', false],
    ['$TAG =~ /^v\\d+\\.\\d+/', true],
    ['$TAG =~ /^V1/i', true],
    ['$TAG !~ /^v/', false],
    ['$UNDEFINED =~ /^$/', true],
    ['$UNDEFINED !~ /x/', true],
    ['$NAME =~ $PATTERN', true],
    ['$BRANCH =~ $PATTERN', false],
    ['"world" =~ $PLAIN', true],
    ['$BRANCH =~ $UNDEFINED', false],
    ['$BRANCH !~ $UNDEFINED', true],
    ['$BRANCH == "main" && $TAG', true],
    ['$EMPTY && $BRANCH', true],
    ['$EMPTY || $UNDEFINED', false],
    ['$UNDEFINED || $BRANCH', true],
    ['($BRANCH == "dev" || $BRANCH == "main") && $TAG =~ /^v/', true],
    ['$BRANCH == "dev" || $BRANCH == "main" && $EMPTY == "x"', false],
    ['$BRANCH == $BRANCH', true],
    ['true', true],
    ['null', false],
  ])('%s → %s', (text, expected) => {
    expect(holds(text)).toBe(expected);
  });
});

describe('RE2 to JavaScript regexps', () => {
  it('translates \\A, \\z, (?P<name>), \\Q…\\E and POSIX classes', () => {
    expect(compileRe2('\\Afoo\\z', '').test('foo')).toBe(true);
    expect(compileRe2('\\Afoo\\z', 'm').test('x\nfoo')).toBe(false);
    expect(compileRe2('(?P<v>\\d+)', '').exec('v12')?.groups?.v).toBe('12');
    expect(compileRe2('\\Qa.b*\\E', '').test('a.b*')).toBe(true);
    expect(compileRe2('\\Qa.b*\\E', '').test('aXbb')).toBe(false);
    expect(compileRe2('^[[:alpha:]_]+$', '').test('abc_D')).toBe(true);
    expect(compileRe2('^[[:digit:]]+$', '').test('12a')).toBe(false);
  });

  it('applies leading inline flags and the s and m flags', () => {
    expect(compileRe2('(?i)^main$', '').test('MAIN')).toBe(true);
    expect(compileRubyRegexp('/a.b/s').test('a\nb')).toBe(true);
    expect(compileRubyRegexp('/^b$/m').test('a\nb')).toBe(true);
    expect(compileRubyRegexp('/^b$/').test('a\nb')).toBe(false);
  });

  it('refuses what JavaScript cannot express', () => {
    expect(() => compileRubyRegexp('/a+/U')).toThrow(/ungreedy/);
    expect(() => compileRe2('a(?i)b', '')).toThrow(/inline flags/);
    expect(() => compileRubyRegexp('no slashes')).toThrow(/\/pattern\/flags/);
  });
});
