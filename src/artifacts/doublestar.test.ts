import { describe, expect, it } from 'vitest';
import { escapeMeta, matchDoublestar, splitPattern, unescapeMeta, validatePattern } from './doublestar.js';

// [pattern, path, doublestar v4 Match result]. Each row was also checked against doublestar
// v4 itself (its Match run on the same pairs), so a row is what gitlab-runner's exclude does.
const MATCH: [string, string, boolean][] = [
  // plain characters and `*`
  ['abc', 'abc', true],
  ['abc', 'abd', false],
  ['*', 'abc', true],
  ['*', '', true],
  ['*', 'a/b', false],
  ['*.js', 'app.js', true],
  ['*.js', 'dist/app.js', false],
  ['dist/*', 'dist/app.js', true],
  ['dist/*', 'dist/sub/x.js', false],
  ['dist/*', 'dist', false],
  ['a*b*c', 'axxbyyc', true],
  ['a*b*c', 'axxbyy', false],
  // leading dots are ordinary characters
  ['*', '.env', true],
  ['.*', '.env', true],
  ['dist/*', 'dist/.hidden.js', true],
  ['**/*.js', '.cache/z.js', true],
  ['?env', '.env', true],
  // `?`
  ['dist/sub/?.js', 'dist/sub/x.js', true],
  ['dist/sub/?.js', 'dist/sub/xy.js', false],
  ['a?b', 'a/b', false],
  // `**` as a whole segment spans directories
  ['**', 'a/b/c', true],
  ['**', '', true],
  ['**/*.js', 'app.js', true],
  ['**/*.js', 'a/b/app.js', true],
  ['dist/**', 'dist', true],
  ['dist/**', 'dist/a/b', true],
  ['dist/**', 'distx', false],
  ['dist/**/*.js', 'dist/app.js', true],
  ['dist/**/*.js', 'dist/a/b/app.js', true],
  ['dist/**/*.js', 'dist/a/b/app.css', false],
  ['a/**/b', 'a/b', true],
  ['a/**/b', 'a/x/y/b', true],
  ['a/**/b', 'a/x/y/bc', false],
  ['dist/**/', 'dist', true],
  ['**/x/**', 'a/x/b/c', true],
  // `**` that is not a whole segment is a single `*`
  ['dist/**.js', 'dist/app.js', true],
  ['dist/**.js', 'dist/sub/app.js', false],
  ['a**/b', 'axx/b', true],
  ['a**/b', 'a/x/b', false],
  ['**b', 'a/b', false],
  // a `*` right before the end of the name cannot reach over a `/`
  ['a*/**', 'a', false],
  ['a/*', 'a', false],
  ['a/*', 'a/', true],
  // classes
  ['[abc]', 'b', true],
  ['[abc]', 'd', false],
  ['[a-c]x', 'bx', true],
  ['[a-c]x', 'dx', false],
  ['[!a-c]x', 'dx', true],
  ['[^a-c]x', 'bx', false],
  ['[-a]', '-', true],
  ['[a-]', '-', true],
  ['[\\]]', ']', true],
  ['[\\-]', '-', true],
  ['a[!x]b', 'a/b', true], // the class itself does not refuse `/` (doublestar's code, not its README)
  ['[☺]', '☺', true],
  ['[α-γ]', 'β', true],
  // alternatives
  ['{a,b}', 'a', true],
  ['{a,b}', 'c', false],
  ['dist/{app.js,sub}', 'dist/sub', true],
  ['{dist,src}/*.js', 'src/a.js', true],
  ['{dist,src}/*.js', 'lib/a.js', false],
  ['*.{js,css}', 'x.css', true],
  ['{a,{b,c}}x', 'cx', true],
  ['{a/b,c}/d', 'a/b/d', true],
  ['x{,y}', 'x', true],
  ['{**/a,b}', 'x/y/a', true],
  ['a{b}c', 'abc', true],
  // escapes
  ['\\*', '*', true],
  ['\\*', 'a', false],
  ['weird/\\[x\\].txt', 'weird/[x].txt', true],
  ['a\\{b\\}', 'a{b}', true],
  ['a\\b', 'ab', true],
  // malformed patterns match nothing
  ['[', '[', false],
  ['a[]', 'a]', false],
  ['{a,b', 'a', false],
  ['a\\', 'a\\', false],
  ['x[', 'y', false],
];

describe('matchDoublestar', () => {
  it.each(MATCH)('Match(%j, %j) is %s', (pattern, path, want) => {
    expect(matchDoublestar(pattern, path)).toBe(want);
  });
});

describe('splitPattern', () => {
  it.each([
    ['dist/**/*.js', 'dist', '**/*.js'],
    ['*.js', '.', '*.js'],
    ['a/b/c', 'a/b', 'c'],
    ['a/b*/c', 'a', 'b*/c'],
    ['/*', '/', '*'],
    ['/builds/g/p/dist/*.js', '/builds/g/p/dist', '*.js'],
    ['x\\*/y/*', 'x*/y', '*'],
    ['{a,b}/c', '.', '{a,b}/c'],
    ['a/[b]/c', 'a', '[b]/c'],
    ['../../path/to/meta*/**', '../../path/to', 'meta*/**'],
  ])('SplitPattern(%j) = %j + %j', (p, base, pattern) => {
    expect(splitPattern(p)).toEqual({ base, pattern });
  });
});

describe('validatePattern', () => {
  it.each([
    ['a/**/*.js', true],
    ['[a-z]', true],
    ['{a,{b,c}}', true],
    ['\\[', true],
    ['[', false],
    ['[]', false],
    ['[!]', false],
    ['{a', false],
    ['a}', false],
    ['a\\', false],
  ])('ValidatePattern(%j) is %s', (p, want) => {
    expect(validatePattern(p)).toBe(want);
  });
});

describe('escapeMeta / unescapeMeta', () => {
  it('round-trips names with meta characters, and an escaped name matches itself only', () => {
    const name = 'a[1]{x,y}*?.txt';
    expect(unescapeMeta(escapeMeta(name).replace(/\\\\/g, '\\'))).toBe(name);
    expect(matchDoublestar(escapeMeta(name), name)).toBe(true);
    expect(matchDoublestar(escapeMeta(name), 'a1x.txt')).toBe(false);
  });
});
