/**
 * Shell-style expansion of one string, as gitlab-runner's helper expands artifact and cache paths
 * and the artifact name: mvdan.cc/sh `shell.Expand(s, env)` (v3.13), whose input is parsed as the
 * body of a here-document and expanded with a read-only environment in which an empty variable is
 * an unset one. So, at the top level:
 *
 * - `$VAR`, `${VAR}`, `$1` (one digit), `${10}`; the special `$$`, `$?`, `$#`, `$@`, `$*`, `$!`,
 *   `$-` are looked up by that name too, which the job's variables never have: they expand to ""
 *   (`$$` is not an escaped `$` here, unlike in job variables).
 * - `${VAR:-w}` `${VAR-w}` (the same, empty being unset), `${VAR:+w}` `${VAR+w}`, `${VAR:?msg}`
 *   (an error), `${VAR:=w}` `${VAR=w}` (an error when VAR is unset: the environment is read-only),
 *   `${#VAR}`, `${VAR#pat}` `${VAR##pat}` `${VAR%pat}` `${VAR%%pat}`, `${VAR/pat/rep}`
 *   `${VAR//pat/rep}`, `${VAR:off}` `${VAR:off:len}`, `${VAR^pat}` `${VAR^^pat}` `${VAR,pat}`
 *   `${VAR,,pat}`, `${!VAR}`; `$((arithmetic))` and `$[arithmetic]` on 64-bit integers.
 * - Quotes are not removed (a here-document keeps them); a backslash escapes only `\`, `$` and
 *   a backquote, and a backslash-newline is dropped.
 * - Inside `${...}` words, '...', "..." and $'...' are quotes (removed; in a `/pat/` they make the
 *   pattern characters literal) and a backslash is kept with the character after it, as mvdan does.
 * - `$(cmd)`, `${ cmd;}` and backquotes are refused (mvdan: "unexpected command substitution").
 *
 * mvdan's own quirks are kept where they show: `${VAR^pat}` changes the first character matching
 * `pat` (not only the first one), `/#pat` and `/%pat` are not anchors, `c ? a : b` picks `a` only
 * when `c` is 1, a word in arithmetic is a base-10 number or a variable name (followed up to 100
 * times), anything else being 0. berth slices by character where mvdan slices by UTF-8 byte.
 * Not supported (an error here): arrays (`${A[0]}`), `${VAR@op}`, zsh and mksh forms.
 *
 * The input is bounded (length, nesting, output size, pattern-matching steps): the text comes
 * from the job's YAML, which may be hostile. Patterns are matched with a set-of-states automaton,
 * never a backtracking RegExp.
 */

import { BerthError } from './errors.js';

/** A value the helper's shell.Expand would refuse (malformed, command substitution, a bound passed). */
export class ShellExpandError extends BerthError {
  constructor(message: string) {
    super('shell_expand_error', message);
  }
}

/** Longest input (UTF-16 code units) expanded. */
export const SHELL_EXPAND_MAX_INPUT = 16 * 1024;
/** Deepest nesting of `${`, `$((`, quotes and parentheses. */
export const SHELL_EXPAND_MAX_DEPTH = 32;
/** Longest result, and longest intermediate value. */
export const SHELL_EXPAND_MAX_OUTPUT = 1024 * 1024;
/** Pattern-matching work (automaton state visits) allowed for one expansion. */
export const SHELL_EXPAND_MAX_STEPS = 4_000_000;
/**
 * Binary operators in one input's arithmetic: a left-deep chain (`1+1+...`) is evaluated one
 * call deeper per operator, so this bounds the evaluation's stack as SHELL_EXPAND_MAX_DEPTH
 * bounds the parser's.
 */
export const SHELL_EXPAND_MAX_ARITH_OPERATORS = 1000;
/** How many times an arithmetic word is followed as a variable name (mvdan's maxNameRefDepth). */
const MAX_NAME_REF_DEPTH = 100;

/** A variable's value; undefined or "" is unset. */
export type ShellLookup = (name: string) => string | undefined;

// ---------------------------------------------------------------------------------------------
// Syntax

type Part =
  | { t: 'lit'; v: string; quoted: boolean }
  | { t: 'param'; p: Param; quoted: boolean }
  | { t: 'arith'; x: Arith; quoted: boolean };
type Word = Part[];

type ExpOp = '+' | ':+' | '-' | ':-' | '?' | ':?' | '=' | ':=' | '#' | '##' | '%' | '%%' | '^' | '^^' | ',' | ',,';

interface Param {
  name: string;
  line: number;
  length?: boolean;
  excl?: boolean;
  names?: boolean;
  slice?: { off: Arith | null; len: Arith | null };
  repl?: { all: boolean; orig: Word; with: Word | null };
  exp?: { op: ExpOp; word: Word };
}

type Arith =
  | { t: 'word'; w: Word }
  | { t: 'un'; op: string; x: Arith }
  | { t: 'bin'; op: string; x: Arith; y: Arith }
  | { t: 'tern'; c: Arith; a: Arith; b: Arith };

const isNameChar = (c: string | undefined): boolean => c !== undefined && /^[A-Za-z0-9_]$/.test(c);
const isNameStart = (c: string | undefined): boolean => c !== undefined && /^[A-Za-z_]$/.test(c);
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9';
const SINGLE_PARAMS = '@*#$?!-';
const isSingleParam = (c: string | undefined): boolean => c !== undefined && c !== '' && (SINGLE_PARAMS.includes(c) || isDigit(c));
const validName = (s: string): boolean => /^[A-Za-z_][A-Za-z0-9_]*$/.test(s);

class Parser {
  private i = 0;
  private depth = 0;
  private operators = 0;

  constructor(private readonly s: string) {}

  private get c(): string | undefined {
    return this.s[this.i];
  }
  private peek(n = 1): string | undefined {
    return this.s[this.i + n];
  }
  private fail(msg: string): never {
    throw new ShellExpandError(`${msg} (at character ${this.i + 1})`);
  }
  private enter(): void {
    if (++this.depth > SHELL_EXPAND_MAX_DEPTH) this.fail(`nested deeper than ${SHELL_EXPAND_MAX_DEPTH} levels`);
  }
  private leave(): void {
    this.depth -= 1;
  }
  private binaryNode(op: string, x: Arith, y: () => Arith): Arith {
    if (++this.operators > SHELL_EXPAND_MAX_ARITH_OPERATORS) this.fail(`more than ${SHELL_EXPAND_MAX_ARITH_OPERATORS} operators in arithmetic`);
    return { t: 'bin', op, x, y: y() };
  }
  /** The line of the character at `at` (for $LINENO only: it costs a scan). */
  private lineAt(at: number, name: string): number {
    if (name !== 'LINENO') return 0;
    let n = 1;
    for (let k = 0; k < at; k++) if (this.s[k] === '\n') n++;
    return n;
  }

  /** The whole input, as a here-document body. */
  document(): Word {
    return this.textRun(false, '\\$`');
  }

  /**
   * Text with expansions, up to the end of the input, or (`quoted`) up to the closing `"`: a
   * backslash escapes the characters of `escapable` and drops a newline, and stays otherwise.
   */
  private textRun(quoted: boolean, escapable: string): Part[] {
    const parts: Part[] = [];
    let lit = '';
    const flush = (): void => {
      if (lit) parts.push({ t: 'lit', v: lit, quoted });
      lit = '';
    };
    for (;;) {
      const c = this.c;
      if (c === undefined) {
        if (quoted) this.fail('reached the end without closing quote "');
        break;
      }
      if (quoted && c === '"') break;
      if (c === '\\') {
        const n = this.peek();
        if (n === '\n') this.i += 2;
        else if (n !== undefined && escapable.includes(n)) {
          lit += n;
          this.i += 2;
        } else {
          lit += n === undefined ? '\\' : `\\${n}`;
          this.i += n === undefined ? 1 : 2;
        }
      } else if (c === '$' || c === '`') {
        const part = this.dollar(quoted);
        if (part) {
          flush();
          parts.push(part);
        } else lit += '$';
      } else {
        lit += c;
        this.i++;
      }
    }
    flush();
    return parts;
  }

  /** At `$` or a backquote: an expansion, or null for a lone `$` (then consumed). */
  private dollar(quoted: boolean): Part | null {
    if (this.c === '`') this.fail('unexpected command substitution: backquotes are not supported');
    const n = this.peek();
    if (n === '{') {
      const after = this.peek(2);
      if (after === ' ' || after === '\t' || after === '\n' || after === '|') this.fail('unexpected command substitution: ${ cmd;} is not supported');
      const at = this.i;
      this.i += 2;
      const p = this.braced();
      p.line = this.lineAt(at, p.name);
      return { t: 'param', p, quoted };
    }
    if (n === '(' && this.peek(2) === '(') {
      this.i += 3;
      this.enter();
      const x = this.arithm('))');
      this.leave();
      return { t: 'arith', x, quoted };
    }
    if (n === '(') this.fail('unexpected command substitution: $(...) is not supported');
    if (n === '[') {
      this.i += 2;
      this.enter();
      const x = this.arithm(']');
      this.leave();
      return { t: 'arith', x, quoted };
    }
    if (isSingleParam(n)) {
      this.i += 2;
      return { t: 'param', p: { name: n!, line: 0 }, quoted };
    }
    if (isNameStart(n)) {
      let j = this.i + 1;
      while (isNameChar(this.s[j])) j++;
      const name = this.s.slice(this.i + 1, j);
      const line = this.lineAt(this.i, name);
      this.i = j;
      return { t: 'param', p: { name, line }, quoted };
    }
    this.i++;
    return null;
  }

  /** After `${`. */
  private braced(): Param {
    this.enter();
    const p: Param = { name: '', line: 0 };
    const nameStartFollows = (): boolean => {
      const n = this.peek();
      return n === undefined || isSingleParam(n) || isNameChar(n) || n === '"';
    };
    if (this.c === '(') this.fail('parameter expansion flags are a zsh feature');
    if (this.c === '#' && nameStartFollows()) {
      p.length = true;
      this.i++;
    } else if (this.c === '%' && nameStartFollows()) this.fail('${%foo} is a mksh feature');
    else if (this.c === '!' && nameStartFollows()) {
      p.excl = true;
      this.i++;
    } else if (this.c === '+' && nameStartFollows()) this.fail('${+foo} is a zsh feature');
    if (this.c === '"' || (this.c === '$' && (this.peek() === '{' || this.peek() === '('))) this.fail('invalid nested parameter expansion');
    // The parameter.
    const c = this.c;
    if ((c === '?' || c === '-') && p.length && this.peek() !== '}') {
      p.length = false; // ${#-default}: the parameter is #
      p.name = '#';
    } else if (c !== undefined && '@*#!$?-'.includes(c)) {
      p.name = c;
      this.i++;
    } else {
      let j = this.i;
      while (isNameChar(this.s[j])) j++;
      const name = this.s.slice(this.i, j);
      if (!/^[0-9]+$/.test(name) && !validName(name)) this.fail('invalid parameter name');
      p.name = name;
      this.i = j;
    }
    if (this.c === '[') this.fail('arrays are not supported');
    const op = this.c;
    if (op === '}') {
      this.i++;
      this.leave();
      return p;
    }
    if (op !== undefined && p.length) this.fail('cannot combine multiple parameter expansion operators');
    switch (op) {
      case undefined:
        break;
      case '/': {
        const all = this.peek() === '/';
        this.i += all ? 2 : 1;
        const orig = this.paramWord(true);
        let w: Word | null = null;
        if (this.c === '/') {
          this.i++;
          w = this.paramWord(false);
        }
        p.repl = { all, orig, with: w };
        break;
      }
      case ':': {
        const n = this.peek();
        if (n === '+' || n === '-' || n === '?' || n === '=') {
          this.i += 2;
          p.exp = { op: `:${n}` as ExpOp, word: this.paramWord(false) };
        } else if (n === '#' || n === '|' || n === '*') this.fail(`\${name:${n}arg} is a zsh feature`);
        else {
          this.i++;
          this.skipSpace();
          const off = this.c === ':' ? null : this.arithm(':}');
          let len: Arith | null = null;
          if (this.c === ':') {
            this.i++;
            len = this.arithm('}');
          }
          p.slice = { off, len };
        }
        break;
      }
      case '^':
      case ',':
      case '#':
      case '%': {
        const double = this.peek() === op;
        this.i += double ? 2 : 1;
        p.exp = { op: (double ? op + op : op) as ExpOp, word: this.paramWord(false) };
        break;
      }
      case '+':
      case '-':
      case '?':
      case '=':
        this.i++;
        p.exp = { op, word: this.paramWord(false) };
        break;
      case '@':
      case '*':
        if (p.excl && this.peek() === '}') {
          p.names = true; // ${!prefix*} ${!prefix@}
          this.i++;
          break;
        }
        return this.fail(op === '@' ? '${name@op} is not supported' : 'not a valid parameter expansion operator: *');
      default:
        if (isNameChar(op)) this.fail(`${p.name} cannot be followed by a word`);
        this.fail(`not a valid parameter expansion operator: ${op}`);
    }
    if (this.c !== '}') this.fail(this.c === undefined ? 'reached the end without matching ${ with }' : `reached ${this.c} without matching \${ with }`);
    this.i++;
    this.leave();
    return p;
  }

  /** The word of `${name<op>word}` up to `}` (and `/` in a replace's pattern). */
  private paramWord(stopAtSlash: boolean): Word {
    const parts: Word = [];
    let lit = '';
    const flush = (): void => {
      if (lit) parts.push({ t: 'lit', v: lit, quoted: false });
      lit = '';
    };
    for (;;) {
      const c = this.c;
      if (c === undefined || c === '}' || (stopAtSlash && c === '/')) break;
      if (c === '\\') {
        const n = this.peek();
        if (n === '\n') this.i += 2;
        else {
          lit += n === undefined ? '\\' : `\\${n}`; // kept with its backslash, as mvdan's Literal does
          this.i += n === undefined ? 1 : 2;
        }
      } else if (c === "'") {
        flush();
        this.i++;
        parts.push({ t: 'lit', v: this.singleQuoted(false), quoted: true });
      } else if (c === '"') {
        flush();
        this.i++;
        parts.push(...this.doubleQuoted());
      } else if (c === '$' && this.peek() === "'") {
        flush();
        this.i += 2;
        parts.push({ t: 'lit', v: this.singleQuoted(true), quoted: true });
      } else if (c === '$' && this.peek() === '"') {
        flush();
        this.i += 2;
        parts.push(...this.doubleQuoted());
      } else if (c === '$' || c === '`') {
        const part = this.dollar(false);
        if (part) {
          flush();
          parts.push(part);
        } else lit += '$';
      } else {
        lit += c;
        this.i++;
      }
    }
    flush();
    return parts;
  }

  /** After `'` (or `$'`, with ANSI-C escapes). */
  private singleQuoted(ansi: boolean): string {
    const start = this.i;
    for (;;) {
      const c = this.c;
      if (c === undefined) this.fail("reached the end without closing quote '");
      if (c === '\\' && ansi) this.i += 2;
      else if (c === "'") break;
      else this.i++;
    }
    const raw = this.s.slice(start, this.i);
    this.i++;
    return ansi ? ansiC(raw) : raw;
  }

  /** After `"`: its parts, all quoted. */
  private doubleQuoted(): Part[] {
    this.enter();
    const parts = this.textRun(true, '\\$`"');
    this.i++;
    this.leave();
    return parts;
  }

  private skipSpace(): void {
    while (this.c === ' ' || this.c === '\t' || this.c === '\n') this.i++;
  }

  /**
   * An arithmetic expression ended by `end`: "))" for `$((`, "]" for `$[`, ":}" (either) for a
   * slice's offset, "}" for its length. The end is consumed only for "))" and "]".
   */
  private arithm(end: '))' | ']' | ':}' | '}'): Arith {
    const slice = end === ':}' || end === '}';
    const x = this.arithComma(slice);
    this.skipSpace();
    if (end === '))') {
      if (this.c !== ')' || this.peek() !== ')') this.fail(this.c === undefined ? 'reached the end without matching $(( with ))' : `unexpected ${this.c} in arithmetic`);
      this.i += 2;
    } else if (end === ']') {
      if (this.c !== ']') this.fail(this.c === undefined ? 'reached the end without matching $[ with ]' : `unexpected ${this.c} in arithmetic`);
      this.i++;
    } else if (this.c === undefined || !end.includes(this.c)) {
      this.fail(this.c === undefined ? 'reached the end without matching ${ with }' : `unexpected ${this.c} in arithmetic`);
    }
    return x;
  }

  private static readonly LEVELS: readonly (readonly string[])[] = [
    ['||'],
    ['&&'],
    ['|'],
    ['^'],
    ['&'],
    ['==', '!='],
    ['<=', '>=', '<', '>'],
    ['<<', '>>'],
    ['+', '-'],
    ['*', '/', '%'],
  ];

  private static readonly ARITH_TOKENS = [
    '**=', '<<=', '>>=',
    '&&', '||', '==', '!=', '<=', '>=', '<<', '>>', '**', '++', '--',
    '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=',
    '+', '-', '*', '/', '%', '<', '>', '&', '|', '^', '=', '!', '~', '?', ':', ',',
  ];

  /** The arithmetic operator at the cursor (longest first), after spaces; not consumed. */
  private arithTok(): string | null {
    this.skipSpace();
    return Parser.ARITH_TOKENS.find((t) => this.s.startsWith(t, this.i)) ?? null;
  }

  private readOnly(tok: string | null): void {
    if (tok === '++' || tok === '--' || (tok?.endsWith('=') && !['==', '!=', '<=', '>='].includes(tok))) {
      this.fail(`${tok} in arithmetic is not supported: the environment is read-only`);
    }
  }

  private arithComma(slice: boolean): Arith {
    let x = this.arithTernary(slice);
    while (this.arithTok() === ',') {
      this.i++;
      x = this.binaryNode(',', x, () => this.arithTernary(slice));
    }
    return x;
  }

  private arithTernary(slice: boolean): Arith {
    const c = this.arithBinary(0);
    const tok = this.arithTok();
    this.readOnly(tok);
    if (tok !== '?' || slice) return c;
    this.i++;
    this.enter();
    const a = this.arithComma(false);
    if (this.arithTok() !== ':') this.fail('ternary operator missing : after ?');
    this.i++;
    const b = this.arithTernary(false);
    this.leave();
    return { t: 'tern', c, a, b };
  }

  private arithBinary(level: number): Arith {
    const ops = Parser.LEVELS[level];
    if (!ops) return this.arithPower();
    let x = this.arithBinary(level + 1);
    for (;;) {
      const op = this.arithTok();
      if (op === null || !ops.includes(op)) return x;
      this.i += op.length;
      x = this.binaryNode(op, x, () => this.arithBinary(level + 1));
    }
  }

  private arithPower(): Arith {
    const x = this.arithUnary();
    if (this.arithTok() !== '**') return x;
    this.i += 2;
    this.enter();
    const y = this.arithPower();
    this.leave();
    return { t: 'bin', op: '**', x, y };
  }

  private arithUnary(): Arith {
    const tok = this.arithTok();
    if (tok === '++' || tok === '--') this.readOnly(tok);
    if (tok === '!' || tok === '~' || tok === '+' || tok === '-') {
      this.i++;
      this.enter();
      const x = this.arithUnary();
      this.leave();
      return { t: 'un', op: tok, x };
    }
    if (this.c === '(') {
      this.i++;
      this.enter();
      const x = this.arithComma(false);
      this.skipSpace();
      if (this.s[this.i] !== ')') this.fail('reached the end without matching ( with )');
      this.i++;
      this.leave();
      return x;
    }
    const w = this.arithWord();
    if (w.length === 0) this.fail(this.c === undefined ? 'an arithmetic expression ends too early' : `unexpected ${this.c} in arithmetic`);
    const after = this.arithTok();
    if (after === '++' || after === '--') this.readOnly(after);
    return { t: 'word', w };
  }

  /** A number, a name, expansions, or a mix of them, up to the next operator or space. */
  private arithWord(): Word {
    const parts: Word = [];
    let lit = '';
    for (;;) {
      const c = this.c;
      if (isNameChar(c)) {
        lit += c;
        this.i++;
      } else if (c === '$' || c === '`') {
        const part = this.dollar(false);
        if (!part) this.fail('unexpected $ in arithmetic');
        if (lit) parts.push({ t: 'lit', v: lit, quoted: false });
        lit = '';
        parts.push(part);
      } else break;
    }
    if (lit) parts.push({ t: 'lit', v: lit, quoted: false });
    return parts;
  }
}

/** $'...' escapes, as mvdan's Format: cut at the first NUL. */
function ansiC(raw: string): string {
  let out = '';
  const simple: Record<string, string> = { a: '\x07', b: '\b', e: '\x1b', E: '\x1b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', "'": "'", '"': '"', '?': '?' };
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c !== '\\' || i + 1 >= raw.length) {
      out += c;
      continue;
    }
    const e = raw[++i]!;
    if (simple[e] !== undefined) out += simple[e];
    else if (e >= '0' && e <= '7') {
      const m = /^[0-7]{1,3}/.exec(raw.slice(i))![0];
      out += String.fromCharCode(Math.min(parseInt(m, 8), 0xff));
      i += m.length - 1;
    } else if (e === 'x' || e === 'u' || e === 'U') {
      const max = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const m = new RegExp(`^[0-9a-fA-F]{1,${max}}`).exec(raw.slice(i + 1))?.[0];
      if (!m) out += `\\${e}`;
      else {
        const n = parseInt(m, 16);
        out += e === 'x' || n > 0x10ffff ? String.fromCharCode(n & 0xff) : String.fromCodePoint(n);
        i += m.length;
      }
    } else out += `\\${e}`;
  }
  const nul = out.indexOf('\0');
  return nul < 0 ? out : out.slice(0, nul);
}

// ---------------------------------------------------------------------------------------------
// Patterns: *, ?, [...], [[:class:]], \x; matched over code points by a set of states.

/** `size`: what one test of a set costs (its ranges), charged to the Budget. */
type Tok = { k: '*' } | { k: '?' } | { k: 'c'; cp: number } | { k: 'set'; neg: boolean; size: number; test: (cp: number) => boolean };

/** The POSIX classes (ASCII, as Go's regexp has them); tested on code points below 0x80. */
const CLASSES: Record<string, (cp: number) => boolean> = {
  alnum: (c) => /[0-9A-Za-z]/.test(String.fromCharCode(c)),
  alpha: (c) => /[A-Za-z]/.test(String.fromCharCode(c)),
  ascii: () => true,
  blank: (c) => c === 9 || c === 32,
  cntrl: (c) => c < 32 || c === 127,
  digit: (c) => c >= 48 && c <= 57,
  graph: (c) => c >= 33 && c <= 126,
  lower: (c) => c >= 97 && c <= 122,
  print: (c) => c >= 32 && c <= 126,
  punct: (c) => c >= 33 && c <= 126 && !/[0-9A-Za-z]/.test(String.fromCharCode(c)),
  space: (c) => c === 32 || (c >= 9 && c <= 13),
  upper: (c) => c >= 65 && c <= 90,
  word: (c) => /\w/.test(String.fromCharCode(c)),
  xdigit: (c) => /[0-9A-Fa-f]/.test(String.fromCharCode(c)),
};

/** The pattern's tokens, or null when it is not a valid pattern (mvdan then leaves the value as is). */
function compileGlob(pattern: string): Tok[] | null {
  const cps = Array.from(pattern);
  const toks: Tok[] = [];
  for (let i = 0; i < cps.length; i++) {
    const c = cps[i]!;
    if (c === '*') toks.push({ k: '*' });
    else if (c === '?') toks.push({ k: '?' });
    else if (c === '\\') {
      if (i + 1 >= cps.length) return null;
      toks.push({ k: 'c', cp: cps[++i]!.codePointAt(0)! });
    } else if (c === '[') {
      const rest = cps.slice(i + 1).join('');
      if (rest.startsWith('[.') || rest.startsWith('[=')) return null;
      if (rest.startsWith('[:')) {
        const close = rest.indexOf(':]]');
        const name = close < 0 ? '' : rest.slice(2, close);
        const inClass = Object.hasOwn(CLASSES, name) ? CLASSES[name] : undefined;
        if (!inClass) return null;
        toks.push({ k: 'set', neg: false, size: 1, test: (cp) => cp < 0x80 && inClass(cp) });
        i += Array.from(rest.slice(0, close + 3)).length;
        continue;
      }
      let j = i + 1;
      let neg = false;
      if (cps[j] === '!' || cps[j] === '^') {
        neg = true;
        j++;
      }
      const ranges: [number, number][] = [];
      let first = true;
      for (;;) {
        let ch = cps[j];
        if (ch === undefined) return null;
        if (ch === ']' && !first) break;
        first = false;
        if (ch === '\\') {
          ch = cps[++j];
          if (ch === undefined) return null;
        }
        const lo = ch.codePointAt(0)!;
        if (cps[j + 1] === '-' && cps[j + 2] !== undefined && cps[j + 2] !== ']') {
          let hiCh = cps[j + 2]!;
          let skip = 2;
          if (hiCh === '\\') {
            hiCh = cps[j + 3] ?? '';
            skip = 3;
            if (!hiCh) return null;
          }
          const hi = hiCh.codePointAt(0)!;
          if (lo > hi) return null;
          ranges.push([lo, hi]);
          j += skip + 1;
        } else {
          ranges.push([lo, lo]);
          j++;
        }
      }
      toks.push({ k: 'set', neg, size: ranges.length, test: (cp) => ranges.some(([lo, hi]) => cp >= lo && cp <= hi) });
      i = j;
    } else toks.push({ k: 'c', cp: c.codePointAt(0)! });
  }
  return toks;
}

/** Counts the automaton's work for one expansion. */
class Budget {
  private used = 0;
  spend(n: number): void {
    this.used += n;
    if (this.used > SHELL_EXPAND_MAX_STEPS) throw new ShellExpandError('pattern matching takes too much work (the pattern or the value is too large)');
  }
}

function tokMatches(t: Tok, cp: number): boolean {
  if (t.k === '?') return true;
  if (t.k === 'c') return t.cp === cp;
  if (t.k === 'set') return t.test(cp) !== t.neg;
  return false;
}

/**
 * Runs `toks` over `cps` from `start` and calls `onAccept(end)` at each end where the
 * pattern matches cps[start, end), in increasing order; stops when no state is left or
 * `onAccept` returns false.
 */
function runGlob(toks: readonly Tok[], cps: readonly number[], start: number, budget: Budget, onAccept: (end: number) => boolean): void {
  const m = toks.length;
  // Each position may test every token, a set as many times as it has ranges.
  const stepCost = toks.reduce((sum, t) => sum + (t.k === 'set' ? t.size : 1), 1);
  let cur = new Uint8Array(m + 1);
  let next = new Uint8Array(m + 1);
  const close = (set: Uint8Array): boolean => {
    let any = false;
    for (let k = 0; k <= m; k++) {
      if (!set[k]) continue;
      any = true;
      if (k < m && toks[k]!.k === '*') set[k + 1] = 1;
    }
    return any;
  };
  cur[0] = 1;
  close(cur);
  for (let pos = start; ; pos++) {
    budget.spend(stepCost);
    if (cur[m] && !onAccept(pos)) return;
    if (pos >= cps.length) return;
    next.fill(0);
    const cp = cps[pos]!;
    for (let k = 0; k < m; k++) {
      if (!cur[k]) continue;
      const t = toks[k]!;
      if (t.k === '*') next[k] = 1;
      else if (tokMatches(t, cp)) next[k + 1] = 1;
    }
    if (!close(next)) return;
    [cur, next] = [next, cur];
  }
}

const codePoints = (s: string): number[] => Array.from(s, (c) => c.codePointAt(0)!);
const fromCodePoints = (cps: readonly number[]): string => {
  let out = '';
  for (let i = 0; i < cps.length; i += 4096) out += String.fromCodePoint(...cps.slice(i, i + 4096));
  return out;
};

/** `${v#p}` `${v##p}` `${v%p}` `${v%%p}`: the shortest/longest matching prefix/suffix removed. */
function removePattern(value: string, pattern: string, suffix: boolean, shortest: boolean, budget: Budget): string {
  const toks = compileGlob(pattern);
  if (!toks) return value;
  let cps = codePoints(value);
  const pat = suffix ? [...toks].reverse() : toks;
  if (suffix) cps = cps.reverse();
  let found = -1;
  runGlob(pat, cps, 0, budget, (end) => {
    found = end;
    return !shortest;
  });
  if (found < 0) return value;
  const kept = cps.slice(found);
  return fromCodePoints(suffix ? kept.reverse() : kept);
}

/**
 * `${v/p/r}` `${v//p/r}`: Go's FindAllStringIndex over the glob's regexp: leftmost match, the
 * longest there (greedy stars), next search from its end; an empty match right where the
 * previous one ended is skipped.
 */
function replacePattern(value: string, pattern: string, withText: string, all: boolean, budget: Budget): string {
  const toks = compileGlob(pattern);
  if (!toks) return value;
  const cps = codePoints(value);
  const find = (from: number): [number, number] | null => {
    for (let s = from; s <= cps.length; s++) {
      let end = -1;
      runGlob(toks, cps, s, budget, (e) => {
        end = e;
        return true;
      });
      if (end >= 0) return [s, end];
    }
    return null;
  };
  const out: string[] = [];
  let last = 0;
  // The result's length so far: stop as soon as it is too long, not after building it.
  let length = 0;
  const push = (...parts: string[]): void => {
    for (const part of parts) length += part.length;
    if (length > SHELL_EXPAND_MAX_OUTPUT) throw new ShellExpandError(`the expansion is longer than ${SHELL_EXPAND_MAX_OUTPUT} characters`);
    out.push(...parts);
  };
  for (let pos = 0, prevEnd = -1; pos <= cps.length; ) {
    const m = find(pos);
    if (!m) break;
    let accept = true;
    if (m[1] === pos) {
      if (m[0] === prevEnd) accept = false;
      pos += 1;
    } else pos = m[1];
    prevEnd = m[1];
    if (!accept) continue;
    push(fromCodePoints(cps.slice(last, m[0])), withText);
    last = m[1];
    if (!all) break;
  }
  push(fromCodePoints(cps.slice(last)));
  return out.join('');
}

/** Whether `pattern` matches the one-character string `ch` or part of it (mvdan's unanchored test). */
function matchesChar(toks: readonly Tok[], ch: number, budget: Budget): boolean {
  let hit = false;
  for (const s of [0, 1]) {
    runGlob(toks, [ch], s, budget, () => {
      hit = true;
      return false;
    });
    if (hit) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Evaluation

const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);
const i64 = (n: bigint): bigint => BigInt.asIntN(64, n);

/** Go's strconv.ParseInt(strings.TrimSpace(s), 10, 64), errors ignored (out of range: the bound). */
function atoi(s: string): bigint {
  const t = s.trim();
  if (!/^[+-]?[0-9]+$/.test(t)) return 0n;
  const n = BigInt(t);
  return n > INT64_MAX ? INT64_MAX : n < INT64_MIN ? INT64_MIN : n;
}

class Evaluator {
  readonly budget = new Budget();

  constructor(private readonly lookup: ShellLookup) {}

  private get(name: string): string {
    return this.lookup(name) ?? '';
  }

  private checked(s: string): string {
    if (s.length > SHELL_EXPAND_MAX_OUTPUT) throw new ShellExpandError(`the expansion is longer than ${SHELL_EXPAND_MAX_OUTPUT} characters`);
    return s;
  }

  /** A word's value with quotes removed. */
  literal(w: Word | null): string {
    if (!w) return '';
    let out = '';
    for (const part of w) out = this.checked(out + this.part(part));
    return out;
  }

  /** A word as a pattern: quoted parts made literal. */
  pattern(w: Word): string {
    let out = '';
    for (const part of w) {
      const v = this.part(part);
      out = this.checked(out + (part.quoted ? v.replace(/[*?[\\]/g, '\\$&') : v));
    }
    return out;
  }

  private part(p: Part): string {
    if (p.t === 'lit') return p.v;
    if (p.t === 'arith') return this.arith(p.x).toString();
    return this.param(p.p);
  }

  private param(p: Param): string {
    const value = p.name === 'LINENO' ? String(p.line) : this.get(p.name);
    let off = 0n;
    let len = 0n;
    if (p.slice) {
      if (p.slice.off) off = this.arith(p.slice.off);
      if (p.slice.len) len = this.arith(p.slice.len);
    }
    if (p.length) return String(Array.from(value).length);
    if (p.excl) {
      if (p.names) return ''; // ${!prefix*}: the environment cannot list its names
      if (value === '') throw new ShellExpandError('invalid indirect expansion');
      return this.get(value);
    }
    if (p.slice) {
      let cps = Array.from(value);
      const at = (n: bigint, size: number): number => {
        let k = n < 0n ? BigInt(size) + n : n;
        if (n < 0n && k < 0n) k = BigInt(size);
        if (k > BigInt(size)) k = BigInt(size);
        return Number(k);
      };
      if (p.slice.off) cps = cps.slice(at(off, cps.length));
      if (p.slice.len) cps = cps.slice(0, at(len, cps.length));
      return cps.join('');
    }
    if (p.repl) {
      const orig = this.pattern(p.repl.orig);
      if (orig === '') return value;
      const withText = this.literal(p.repl.with);
      return this.checked(replacePattern(value, orig, withText, p.repl.all, this.budget));
    }
    if (p.exp) {
      const arg = this.literal(p.exp.word);
      switch (p.exp.op) {
        case '+':
        case ':+':
          return value === '' ? '' : arg;
        case '-':
        case ':-':
          return value === '' ? arg : value;
        case '?':
        case ':?':
          if (value === '') throw new ShellExpandError(`${p.name}: ${arg}`);
          return value;
        case '=':
        case ':=':
          if (value === '') throw new ShellExpandError(`cannot assign ${p.name}: the environment is read-only`);
          return value;
        case '#':
        case '##':
        case '%':
        case '%%':
          return removePattern(value, arg, p.exp.op[0] === '%', p.exp.op.length === 1, this.budget);
        default:
          return this.changeCase(value, arg, p.exp.op);
      }
    }
    return value;
  }

  private changeCase(value: string, pattern: string, op: ExpOp): string {
    const toks = pattern === '' ? [{ k: '?' } as Tok] : compileGlob(pattern);
    if (!toks) return value;
    const upper = op[0] === '^';
    const all = op.length === 2;
    const chars = Array.from(value);
    for (let i = 0; i < chars.length; i++) {
      const ch = chars[i]!;
      if (!matchesChar(toks, ch.codePointAt(0)!, this.budget)) continue;
      const changed = upper ? ch.toUpperCase() : ch.toLowerCase();
      if (Array.from(changed).length === 1) chars[i] = changed;
      if (!all) break;
    }
    return chars.join('');
  }

  private arith(x: Arith): bigint {
    switch (x.t) {
      case 'word': {
        let s = this.literal(x.w);
        for (let i = 0; validName(s); ) {
          const v = this.get(s);
          if (v === '' || ++i >= MAX_NAME_REF_DEPTH) break;
          s = v;
        }
        return atoi(s);
      }
      case 'un': {
        const v = this.arith(x.x);
        if (x.op === '!') return v === 0n ? 1n : 0n;
        if (x.op === '~') return i64(~v);
        if (x.op === '-') return i64(-v);
        return v;
      }
      case 'tern':
        // mvdan takes the first branch only when the condition is exactly 1.
        return this.arith(x.c) === 1n ? this.arith(x.a) : this.arith(x.b);
      case 'bin': {
        const a = this.arith(x.x);
        const b = this.arith(x.y);
        return binary(x.op, a, b);
      }
    }
  }
}

function binary(op: string, a: bigint, b: bigint): bigint {
  const bool = (v: boolean): bigint => (v ? 1n : 0n);
  switch (op) {
    case '+':
      return i64(a + b);
    case '-':
      return i64(a - b);
    case '*':
      return i64(a * b);
    case '/':
      if (b === 0n) throw new ShellExpandError('division by zero');
      return i64(a / b);
    case '%':
      if (b === 0n) throw new ShellExpandError('division by zero');
      return i64(a % b);
    case '**': {
      // Go's intPow: square-and-multiply, wrapping; a negative exponent gives 1.
      let p = 1n;
      let base = a;
      let e = b;
      while (e > 0n) {
        if (e & 1n) p = i64(p * base);
        e >>= 1n;
        base = i64(base * base);
      }
      return p;
    }
    case '<<':
    case '>>': {
      const s = BigInt.asUintN(64, b);
      if (op === '<<') return s >= 64n ? 0n : i64(a << s);
      return s >= 64n ? (a < 0n ? -1n : 0n) : a >> s;
    }
    case '<':
      return bool(a < b);
    case '>':
      return bool(a > b);
    case '<=':
      return bool(a <= b);
    case '>=':
      return bool(a >= b);
    case '==':
      return bool(a === b);
    case '!=':
      return bool(a !== b);
    case '&':
      return i64(a & b);
    case '|':
      return i64(a | b);
    case '^':
      return i64(a ^ b);
    case '&&':
      return bool(a !== 0n && b !== 0n);
    case '||':
      return bool(a !== 0n || b !== 0n);
    case ',':
      return b;
    default:
      throw new ShellExpandError(`unsupported arithmetic operator ${op}`);
  }
}

/**
 * Expands `text` as gitlab-runner's helper does with mvdan.cc/sh `shell.Expand`, looking
 * variables up with `lookup` (an empty value is unset). Throws ShellExpandError on a syntax
 * error, a command substitution, `${VAR:?msg}`, an assignment, a division by zero or a bound.
 */
export function shellExpand(text: string, lookup: ShellLookup): string {
  if (text.length > SHELL_EXPAND_MAX_INPUT) throw new ShellExpandError(`the text is longer than ${SHELL_EXPAND_MAX_INPUT} characters`);
  if (!/[$`\\]/.test(text)) return text;
  // The parser reads \r\n as \n and ignores NUL bytes.
  const word = new Parser(text.replace(/\r\n/g, '\n').replace(/\0/g, '')).document();
  return new Evaluator(lookup).literal(word);
}
