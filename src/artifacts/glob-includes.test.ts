import { describe, expect, it } from 'vitest';
import { globIncludes } from './glob-includes.js';

// [pattern, path, isDir, what doublestar v4 Glob (WithNoFollow) returns for it]
describe('globIncludes', () => {
  it.each([
    ['*.js', 'app.js', false, true],
    ['*.js', 'sub/app.js', false, false],
    ['**/*.js', 'a/b/app.js', false, true],
    ['**/*.js', 'app.js', false, true],
    // `dir/**` returns dir only when it is a directory
    ['dist/**', 'dist', true, true],
    ['dist/**', 'dist', false, false],
    ['dist/**', 'dist/a/b', false, true],
    // Glob, unlike Match, returns the directory ab for `a*/**`
    ['a*/**', 'ab', true, true],
    ['a*/**', 'ab', false, false],
    ['a*/**', 'ab/c', false, true],
    // the root: `**` returns it, `*` does not
    ['**', '.', true, true],
    ['*', '.', true, false],
    ['*', 'x', false, true],
    // a directory in the middle must be a directory found by that part
    ['*/x.js', 'a/x.js', false, true],
    ['*/*/x.js', 'a/x.js', false, false],
    ['a/**/b/**', 'a/x/b', true, true],
    ['a/**/b/**', 'a/x/b/c', false, true],
    ['a/**/b/**', 'a/x/bc', false, false],
    // alternatives: tried in turn; an empty last one is not tried
    ['{dist,src}/*.js', 'src/a.js', false, true],
    ['dist/{app.js,sub}', 'dist/sub', true, true],
    ['x/{sub,}', 'x/sub', true, true],
    ['x/{sub,}', 'x', true, false],
    ['{a,b}/**', 'b/c/d', false, true],
    ['{a/**,b}', 'a/c', false, true],
    // malformed
    ['a/[', 'a/[', false, false],
  ] as [string, string, boolean, boolean][])('Glob(%j) has %j (dir: %s): %s', (pattern, path, isDir, want) => {
    expect(globIncludes(pattern, path, isDir)).toBe(want);
  });
});
