/**
 * GitLab evaluates `/pattern/flags` with RE2 (Gitlab::UntrustedRegexp::RubySyntax): flags
 * i, s, m, U are prepended as `(?flags)`. This translates that syntax to a JavaScript RegExp:
 * `\A`, `\z`, `(?P<name>`, `\Q…\E`, POSIX classes `[[:alpha:]]` and leading inline flags.
 * Constructs JavaScript cannot express (the U flag, inline flags inside the pattern) are errors.
 */
import { ExpressionSyntaxError } from './expression-lexer.js';

const RUBY_SYNTAX = /^\/(.*)\/([ismU]*)$/s;

const POSIX_CLASSES: Record<string, string> = {
  alnum: 'a-zA-Z0-9',
  alpha: 'a-zA-Z',
  ascii: '\\x00-\\x7F',
  blank: ' \\t',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '\\w',
  xdigit: '0-9A-Fa-f',
};

/** True when `text` looks like `/…/flags`. */
export function isRubyRegexpSyntax(text: string): boolean {
  return RUBY_SYNTAX.test(text);
}

/** Compiles `/pattern/flags`; throws an ExpressionSyntaxError saying why when it cannot. */
export function compileRubyRegexp(text: string): RegExp {
  const m = RUBY_SYNTAX.exec(text);
  if (!m) throw new ExpressionSyntaxError('a regular expression must look like /pattern/flags');
  return compileRe2(m[1]!, m[2]!);
}

export function compileRe2(pattern: string, flags: string): RegExp {
  const jsFlags = new Set<string>();
  for (const f of flags) addFlag(jsFlags, f);
  let body = pattern;
  const inline = /^\(\?([imsU]+)\)/.exec(body);
  if (inline) {
    for (const f of inline[1]!) addFlag(jsFlags, f);
    body = body.slice(inline[0].length);
  }
  const source = translate(body);
  if (/\\p/.test(source)) jsFlags.add('u');
  try {
    return new RegExp(source, [...jsFlags].join(''));
  } catch (err) {
    throw new ExpressionSyntaxError((err as Error).message.replace(/^Invalid regular expression: /, ''), { cause: err });
  }
}

function addFlag(flags: Set<string>, f: string): void {
  if (f === 'U') throw new ExpressionSyntaxError('the U (ungreedy) flag is not supported by berth exec');
  flags.add(f);
}

function translate(p: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '\\') {
      const n = p[i + 1] ?? '';
      i++;
      if (!inClass && n === 'A') out += '(?<![\\s\\S])';
      else if (!inClass && n === 'z') out += '(?![\\s\\S])';
      else if (n === 'C') out += inClass ? '\\s\\S' : '[\\s\\S]';
      else if (n === 'Q') {
        const end = p.indexOf('\\E', i + 1);
        const literal = end < 0 ? p.slice(i + 1) : p.slice(i + 1, end);
        out += literal.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
        i = end < 0 ? p.length : end + 1;
      } else out += `\\${n}`;
      continue;
    }
    if (inClass) {
      const posix = /^\[:(\^?)([a-z]+):\]/.exec(p.slice(i));
      if (posix) {
        const cls = POSIX_CLASSES[posix[2]!];
        if (!cls || posix[1]) throw new ExpressionSyntaxError(`unsupported character class [:${posix[1]}${posix[2]}:]`);
        out += cls;
        i += posix[0].length - 1;
        continue;
      }
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      if (p[i + 1] === '^') out += p[++i];
      if (p[i + 1] === ']') out += `\\${p[++i]}`;
      continue;
    }
    if (c === '(' && p.startsWith('(?P<', i)) {
      out += '(?<';
      i += 3;
      continue;
    }
    if (c === '(' && /^\(\?[imsU-]+[):]/.test(p.slice(i))) {
      throw new ExpressionSyntaxError('inline flags inside the pattern are not supported by berth exec; put them after the closing /');
    }
    out += c;
  }
  return out;
}
