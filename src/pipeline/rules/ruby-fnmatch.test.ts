import { describe, expect, it } from 'vitest';
import { expandBraces, rubyFnmatch } from './ruby-fnmatch.js';

// Expected values are Ruby's File.fnmatch?(glob, path, File::FNM_PATHNAME | File::FNM_DOTMATCH | File::FNM_EXTGLOB).
const cases: [string, string, boolean][] = [
  ['*', 'README.md', true],
  ['*', 'docs/README.md', false],
  ['*.md', '.hidden.md', true],
  ['*', '.gitignore', true],
  ['docs/*', 'docs/a.md', true],
  ['docs/*', 'docs/sub/a.md', false],
  ['**/*', 'a', true],
  ['**/*', 'a/b/c.txt', true],
  ['**/*', '.github/workflows/ci.yml', true],
  ['src/**/*.js', 'src/app.js', true],
  ['src/**/*.js', 'src/a/b/app.js', true],
  ['src/**/*.js', 'src/.cache/app.js', true],
  ['src/**/*.js', 'lib/app.js', false],
  ['src/**', 'src/app.js', true],
  ['src/**', 'src/a/app.js', false],
  ['**/Dockerfile', 'Dockerfile', true],
  ['**/Dockerfile', 'images/web/Dockerfile', true],
  ['a?c', 'abc', true],
  ['a?c', 'a/c', false],
  ['[a-c].txt', 'b.txt', true],
  ['[a-c].txt', 'd.txt', false],
  ['[!a].txt', 'b.txt', true],
  ['[!a].txt', 'a.txt', false],
  ['x[/]y', 'x/y', false],
  ['\\*.txt', '*.txt', true],
  ['\\*.txt', 'a.txt', false],
  ['{src,lib}/*.js', 'src/a.js', true],
  ['{src,lib}/*.js', 'lib/a.js', true],
  ['{src,lib}/*.js', 'test/a.js', false],
  ['*.{js,{ts,tsx}}', 'a.tsx', true],
  ['*.{js,{ts,tsx}}', 'a.ts', true],
  ['*.{js,{ts,tsx}}', 'a.css', false],
  ['{a,b', '{a,b', true],
  ['Dockerfile', 'Dockerfile', true],
  ['Dockerfile', 'images/Dockerfile', false],
  ['docs', 'docs/a.md', false],
  ['app.js', 'APP.JS', false],
  ['a+b(c).txt', 'a+b(c).txt', true],
];

describe('rubyFnmatch (FNM_PATHNAME | FNM_DOTMATCH | FNM_EXTGLOB)', () => {
  it.each(cases)('%s against %s is %s', (glob, path, expected) => {
    expect(rubyFnmatch(glob)(path)).toBe(expected);
  });

  it('expands braces in sequence and nested', () => {
    expect(expandBraces('{a,b}/{c,d}')).toEqual(['a/c', 'a/d', 'b/c', 'b/d']);
    expect(expandBraces('x{1,{2,3}}')).toEqual(['x1', 'x2', 'x3']);
    expect(expandBraces('plain')).toEqual(['plain']);
  });
});
