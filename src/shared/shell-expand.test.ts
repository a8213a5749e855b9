import { describe, expect, it } from 'vitest';
import { SHELL_EXPAND_MAX_ARITH_OPERATORS, SHELL_EXPAND_MAX_DEPTH, SHELL_EXPAND_MAX_INPUT, ShellExpandError, shellExpand } from './shell-expand.js';

const VARS: Record<string, string> = {
  OUT: 'build',
  DIR: 'dist/web',
  FILE: 'src/app.tar.gz',
  EMPTY: '',
  NAME: 'hello World',
  N: '7',
  REF: 'N',
  PAT: 'o*',
  LONG: 'abcdef',
  UNI: 'héllo',
};
const lookup = (k: string): string | undefined => VARS[k];
const x = (text: string, vars: (k: string) => string | undefined = lookup): string => shellExpand(text, vars);

describe('shellExpand: parameters', () => {
  it('expands $VAR and ${VAR}; unknown and empty ones are ""', () => {
    expect(x('$OUT/')).toBe('build/');
    expect(x('${OUT}x/')).toBe('buildx/');
    expect(x('a-$NOPE-c')).toBe('a--c');
    expect(x('a${EMPTY}b')).toBe('ab');
    expect(x('plain/path/*.txt')).toBe('plain/path/*.txt');
  });

  it('looks special parameters up by name, which job variables never have: $$ is "" (not an escaped $)', () => {
    expect(x('a$$b')).toBe('ab');
    expect(x('$?$#$@$*$!$-')).toBe('');
    expect(x('$1a')).toBe('a'); // one digit only
    expect(x('${10}', (k) => (k === '10' ? 'ten' : undefined))).toBe('ten');
    expect(x('$LINENO ${LINENO}')).toBe('1 1');
  });

  it('keeps a $ that starts nothing', () => {
    expect(x('a$')).toBe('a$');
    expect(x('$/x $.y $"z"')).toBe('$/x $.y $"z"');
    expect(x("$'q'")).toBe("$'q'");
  });

  it(':- and - (the same: empty is unset), :+ and +', () => {
    expect(x('${OUT:-dist}/')).toBe('build/');
    expect(x('${NOPE:-dist}/')).toBe('dist/');
    expect(x('${EMPTY:-dist}')).toBe('dist');
    expect(x('${EMPTY-dist}')).toBe('dist');
    expect(x('${NOPE-$OUT/x}')).toBe('build/x');
    expect(x('${OUT:+set}|${NOPE:+set}|${EMPTY+set}|${OUT+set}')).toBe('set|||set');
    expect(x('${NOPE:-${NOPE2:-deep}}')).toBe('deep');
    expect(x('${NOPE:-}')).toBe('');
  });

  it(':= and = work when the variable is set, and fail when it is not (the environment is read-only)', () => {
    expect(x('${OUT:=x}')).toBe('build');
    expect(x('${OUT=x}')).toBe('build');
    expect(() => x('${NOPE:=x}')).toThrow(/NOPE: the environment is read-only/);
    expect(() => x('${EMPTY=x}')).toThrow(ShellExpandError);
  });

  it(':? and ? fail with the message when unset', () => {
    expect(x('${OUT:?missing}')).toBe('build');
    expect(() => x('${NOPE:?is missing}')).toThrow('NOPE: is missing');
    expect(() => x('${NOPE?}')).toThrow('NOPE: ');
  });

  it('${#VAR} counts characters', () => {
    expect(x('${#OUT}')).toBe('5');
    expect(x('${#NOPE}')).toBe('0');
    expect(x('${#UNI}')).toBe('5');
  });

  it('removes the shortest / longest matching prefix and suffix', () => {
    expect(x('${FILE#*.}')).toBe('tar.gz');
    expect(x('${FILE##*.}')).toBe('gz');
    expect(x('${FILE%.*}')).toBe('src/app.tar');
    expect(x('${FILE%%.*}')).toBe('src/app');
    expect(x('${DIR%b}x/')).toBe('dist/wex/');
    expect(x('${DIR#dist/}')).toBe('web');
    expect(x('${DIR%/*}')).toBe('dist');
    expect(x('${FILE#nomatch}')).toBe('src/app.tar.gz');
    expect(x('${FILE#?}')).toBe('rc/app.tar.gz');
    expect(x('${FILE##[a-s]}')).toBe('rc/app.tar.gz');
    expect(x('${FILE#[!s]}')).toBe('src/app.tar.gz');
    expect(x('${FILE%[[:alpha:]]}')).toBe('src/app.tar.g');
    expect(x('${FILE%\\.gz}')).toBe('src/app.tar');
    expect(x('${FILE%%"*"}')).toBe(''); // a quoted * is still a pattern character in # and % (mvdan)
    expect(x('${FILE%"*"}')).toBe('src/app.tar.gz'); // the shortest suffix * matches is the empty one
    expect(x('${FILE%$PAT}')).toBe('src/app.tar.gz');
    expect(x('${NAME%$PAT}')).toBe('hello W');
    expect(x('${NOPE%x}')).toBe('');
  });

  it('leaves the value as it is for an invalid pattern', () => {
    expect(x('${FILE%[a}')).toBe('src/app.tar.gz');
    expect(x('${FILE%[z-a]}')).toBe('src/app.tar.gz');
    expect(x('${FILE%[[:nope:]]}')).toBe('src/app.tar.gz');
    expect(x('${FILE%[[:constructor:]]}')).toBe('src/app.tar.gz');
  });

  it('replaces the first or every match (leftmost, longest)', () => {
    expect(x('${DIR/\\//-}')).toBe('dist-web');
    expect(x('${NAME/o/0}')).toBe('hell0 World');
    expect(x('${NAME//o/0}')).toBe('hell0 W0rld');
    expect(x('${NAME//l*o/L}')).toBe('heLrld');
    expect(x('${NAME// /}')).toBe('helloWorld');
    expect(x('${NAME//o}')).toBe('hell Wrld');
    expect(x('${NAME//"*"/x}')).toBe('hello World'); // quoted: a literal *
    expect(x('${NAME//$PAT/x}')).toBe('hellx');
    expect(x('${NAME//"$PAT"/x}')).toBe('hello World');
    expect(x('${NAME//*/x}')).toBe('x');
    expect(x('${NOPE//*/x}')).toBe('x'); // Go's regexp finds the empty match
    expect(x('${NAME/#h/H}')).toBe('hello World'); // not an anchor in mvdan: a literal #h
    expect(x('${NAME//o/a/b}')).toBe('hella/b Wa/brld');
  });

  it('slices by offset and length (arithmetic), negative ones from the end', () => {
    expect(x('${LONG:2}')).toBe('cdef');
    expect(x('${LONG:1:3}')).toBe('bcd');
    expect(x('${LONG: -2}')).toBe('ef');
    expect(x('${LONG:(-2)}')).toBe('ef');
    expect(x('${LONG:1:-1}')).toBe('bcde');
    expect(x('${LONG:N-5:N-6}')).toBe('c');
    expect(x('${LONG:10}')).toBe('');
    expect(x('${LONG::2}')).toBe('ab');
    expect(x('${UNI:1:3}')).toBe('éll');
  });

  it('changes case: the first matching character or all', () => {
    expect(x('${NAME^}')).toBe('Hello World');
    expect(x('${NAME^^}')).toBe('HELLO WORLD');
    expect(x('${NAME^^[lo]}')).toBe('heLLO WOrLd');
    expect(x('${NAME^w}')).toBe('hello World');
    expect(x('${NAME^o}')).toBe('hellO World'); // the first "o", as mvdan does
    expect(x('${OUT,}', (k) => (k === 'OUT' ? 'BUILD' : undefined))).toBe('bUILD');
    expect(x('${OUT,,}', (k) => (k === 'OUT' ? 'BUILD' : undefined))).toBe('build');
  });

  it('${!VAR} is indirect; ${!prefix*} is empty (the environment cannot list names)', () => {
    expect(x('${!REF}')).toBe('7');
    expect(x('${!OUT}')).toBe('');
    expect(x('${!O*}|${!O@}')).toBe('|');
    expect(() => x('${!NOPE}')).toThrow(/invalid indirect expansion/);
  });
});

describe('shellExpand: quotes and backslashes', () => {
  it('keeps quotes at the top level (a here-document body)', () => {
    expect(x('"$OUT"/\'x\'')).toBe('"build"/\'x\'');
  });

  it('escapes only \\, $ and ` with a backslash at the top level; drops a backslash-newline', () => {
    expect(x('\\$OUT')).toBe('$OUT');
    expect(x('a\\\\b')).toBe('a\\b');
    expect(x('a\\`b')).toBe('a`b');
    expect(x('a\\"b\\*c')).toBe('a\\"b\\*c');
    expect(x('a\\\nb')).toBe('ab');
    expect(x('a\\')).toBe('a\\');
  });

  it('removes quotes inside ${...} words', () => {
    expect(x('${NOPE:-"a b"}')).toBe('a b');
    expect(x("${NOPE:-'a}b'}")).toBe('a}b');
    expect(x('${NOPE:-"x}$OUT"}')).toBe('x}build');
    expect(x("${NOPE:-'$OUT'}")).toBe('$OUT');
    expect(x('${NOPE:-"\\$\\"\\x"}')).toBe('$"\\x');
    expect(x("${NOPE:-$'a\\tb'}")).toBe('a\tb');
    expect(x('${NOPE:-$"q"}')).toBe('q');
  });

  it('keeps a backslash with the character after it in an unquoted ${...} word, as mvdan does', () => {
    expect(x('${NOPE:-a\\}b}')).toBe('a\\}b');
  });
});

describe('shellExpand: arithmetic', () => {
  it('computes integers with variables by name', () => {
    expect(x('$((1 + 2 * 3))')).toBe('7');
    expect(x('$(( (1 + 2) * 3 ))')).toBe('9');
    expect(x('$((N % 4))-$((N / 2))-$((-N))')).toBe('3-3--7');
    expect(x('$((REF + 1))')).toBe('8'); // REF -> N -> 7
    expect(x('$(($N * ${N}))')).toBe('49');
    expect(x('$((NOPE + 1))')).toBe('1');
    expect(x('$((2 ** 10))|$((-2 ** 2))|$((1 << 4))|$((7 & 3 | 8))|$((3 > 2 && 1))')).toBe('1024|4|16|11|1');
    expect(x('$((1, 2))|$((!0))|$((~0))')).toBe('2|1|-1');
    expect(x('$((1 ? 5 : 6))|$((2 ? 5 : 6))')).toBe('5|6'); // mvdan: only 1 is true here
    expect(x('$[N+1]')).toBe('8');
    expect(x('v$((OUT))')).toBe('v0'); // not a number: 0
  });

  it('wraps at 64 bits as Go does', () => {
    expect(x('$((9223372036854775807 + 1))')).toBe('-9223372036854775808');
    expect(x('$((99999999999999999999))')).toBe('9223372036854775807');
  });

  it('fails on division by zero, assignments and increments', () => {
    expect(() => x('$((1 / 0))')).toThrow(/division by zero/);
    expect(() => x('$((1 % (N - 7)))')).toThrow(/division by zero/);
    expect(() => x('$((N = 1))')).toThrow(/read-only/);
    expect(() => x('$((N += 1))')).toThrow(/read-only/);
    expect(() => x('$((N++))')).toThrow(/read-only/);
    expect(() => x('$((--N))')).toThrow(/read-only/);
  });

  it('fails on malformed arithmetic', () => {
    expect(() => x('$((1 + ))')).toThrow(ShellExpandError);
    expect(() => x('$(( ))')).toThrow(ShellExpandError);
    expect(() => x('$((1 + 2)')).toThrow(ShellExpandError);
    expect(() => x('$((1.5))')).toThrow(ShellExpandError);
    expect(() => x('$[1')).toThrow(ShellExpandError);
  });
});

describe('shellExpand: errors', () => {
  it('refuses command substitution, wherever it is', () => {
    expect(() => x('$(id)')).toThrow(/command substitution/);
    expect(() => x('`id`')).toThrow(/command substitution/);
    expect(() => x('${ id;}')).toThrow(/command substitution/);
    expect(() => x('${OUT:-$(id)}')).toThrow(/command substitution/);
    expect(() => x('${NOPE:-"`id`"}')).toThrow(/command substitution/);
    expect(x('\\`id\\`')).toBe('`id`');
  });

  it('reports malformed expressions', () => {
    expect(() => x('${OUT')).toThrow(/without matching \$\{ with \}/);
    expect(() => x('${OUT:-x')).toThrow(/without matching/);
    expect(() => x('${}')).toThrow(/invalid parameter name/);
    expect(() => x('${1a}')).toThrow(/invalid parameter name/);
    expect(() => x('${OUT.x}')).toThrow(/not a valid parameter expansion operator/);
    expect(() => x('${#OUT:-x}')).toThrow(/cannot combine/);
    expect(() => x('${NOPE:-"x}')).toThrow(/without closing quote/);
    expect(() => x("${NOPE:-'x}")).toThrow(/without closing quote/);
    expect(() => x('${A[0]}')).toThrow(/arrays are not supported/);
    expect(() => x('${OUT@Q}')).toThrow(/not supported/);
    expect(() => x('${OUT*}')).toThrow(/not a valid parameter expansion operator/);
  });
});

describe('shellExpand: bounds on hostile input', () => {
  it('refuses too long an input', () => {
    expect(() => x('$'.repeat(SHELL_EXPAND_MAX_INPUT + 1))).toThrow(/longer than/);
  });

  it('refuses deep nesting, without overflowing the stack', () => {
    const deep = (n: number): string => '${NOPE:-'.repeat(n) + 'x' + '}'.repeat(n);
    expect(x(deep(SHELL_EXPAND_MAX_DEPTH - 1))).toBe('x');
    expect(() => x(deep(1000))).toThrow(/nested deeper/);
    expect(() => x(`$((${'('.repeat(3000)}1${')'.repeat(3000)}))`)).toThrow(/nested deeper/);
    expect(() => x(`$((${'- '.repeat(3000)}1))`)).toThrow(/nested deeper/);
  });

  it('refuses an output that grows too large', () => {
    const big = 'a'.repeat(200_000);
    expect(() => x('$B'.repeat(10), (k) => (k === 'B' ? big : undefined))).toThrow(/longer than/);
  });

  it('counts each range of a [set] as work: a huge set over a long value is refused, not run for seconds', () => {
    const long = 'a'.repeat(300_000);
    const set = `[${'b'.repeat(16_000)}]`;
    expect(() => x(`\${V//${set}/x}`, (k) => (k === 'V' ? long : undefined))).toThrow(/too much work/);
  });

  it('stops a replacement as soon as its result is too long, not after building it', () => {
    const a = 'a'.repeat(16_000);
    expect(() => x('${A//a/${A}}', (k) => (k === 'A' ? a : undefined))).toThrow(/longer than/);
  });

  it('bounds the operators of arithmetic (a left-deep chain is evaluated one call deeper per operator)', () => {
    const chain = (n: number): string => `$((${'1+'.repeat(n)}1))`;
    expect(x(chain(SHELL_EXPAND_MAX_ARITH_OPERATORS))).toBe(String(SHELL_EXPAND_MAX_ARITH_OPERATORS + 1));
    expect(() => x(chain(8000))).toThrow(ShellExpandError);
    expect(() => x(chain(8000))).toThrow(/more than 1000 operators/);
  });

  it('matches patterns without catastrophic backtracking, and bounds the work', () => {
    const as = 'a'.repeat(3000);
    const started = Date.now();
    expect(x('${A##*a*a*a*a*a*b}', (k) => (k === 'A' ? as : undefined))).toBe(as);
    expect(x('${A%%a*a*a*a*a}', (k) => (k === 'A' ? as : undefined))).toBe('');
    expect(() => x('${A//*a*a*a*a*b/}', (k) => (k === 'A' ? as : undefined))).toThrow(/too much work/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});
