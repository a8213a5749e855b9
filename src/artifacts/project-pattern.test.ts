import { describe, expect, it } from 'vitest';
import { cleanPath, pathRuleOf, relativeToProject } from './project-pattern.js';

const WD = '/builds/g/p';

describe('cleanPath (Go path.Clean)', () => {
  it.each([
    ['', '.'],
    ['.', '.'],
    ['./dist/', 'dist'],
    ['dist//sub/./x', 'dist/sub/x'],
    ['dist/**/../*.js', 'dist/*.js'],
    ['*/../../etc', '../etc'],
    ['../../a', '../../a'],
    ['/../a', '/a'],
    ['/', '/'],
  ])('Clean(%j) = %j', (p, want) => {
    expect(cleanPath(p)).toBe(want);
  });
});

describe('relativeToProject (findRelativePathInProject)', () => {
  it.each([
    ['dist', 'dist'],
    ['./dist/', 'dist'],
    [WD, '.'],
    [`${WD}/`, '.'],
    [`${WD}/dist/*.js`, 'dist/*.js'],
    ['dist/**/*.js', 'dist/**/*.js'],
    ['*.js', '*.js'],
    ['src/../dist/*.js', 'dist/*.js'],
    ['*/../../etc', '../etc'], // only the base is checked; the pattern part is cleaned after
  ])('%j → %j', (p, rel) => {
    expect(relativeToProject(p, WD)).toEqual({ ok: true, rel });
  });

  it.each(['/etc', '../x', '..', '../*', 'dist/../../x*', '/builds/g/other/*'])('%j is not a subpath', (p) => {
    expect(relativeToProject(p, WD)).toEqual({ ok: false, error: `artifact path is not a subpath of project directory: ${p}` });
  });
});

describe('pathRuleOf (FilepathGlob split)', () => {
  it.each([
    ['.', { kind: 'literal', path: '.' }],
    ['dist', { kind: 'literal', path: 'dist' }],
    ['a/b/c.txt', { kind: 'literal', path: 'a/b/c.txt' }],
    ['weird/st\\*r.txt', { kind: 'literal', path: 'weird/st*r.txt' }],
    ['dist/**/*.js', { kind: 'glob', base: 'dist', pattern: '**/*.js' }],
    ['*.js', { kind: 'glob', base: '.', pattern: '*.js' }],
    ['{a,b}/c', { kind: 'glob', base: '.', pattern: '{a,b}/c' }],
    ['dist/[.js', { kind: 'bad-pattern' }],
    ['dist}', { kind: 'bad-pattern' }],
    ['../etc', { kind: 'outside', rel: '../etc' }],
  ])('%j → %j', (rel, rule) => {
    expect(pathRuleOf(rel)).toEqual(rule);
  });
});
