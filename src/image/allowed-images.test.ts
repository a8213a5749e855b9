import { describe, expect, it } from 'vitest';
import { checkAllowedImage, globMatches } from './allowed-images.js';

describe('globMatches (gitlab-runner allowed_images_test table)', () => {
  it.each([
    ['library/ruby', '*', false],
    ['library/ruby', '*/*', true],
    ['library/ruby', '**/*', true],
    ['library/ruby', '**/*:*', false],
    ['library/ruby:2.1', '**/*:*', true],
    ['my.registry.tld/group/subgroup/ruby:2.1', 'my.registry.tld/**/*:*', true],
    ['my.registry.tld/group/subgroup/ruby:2.1', 'my.registry.tld/*/*:*', false],
    ['ruby', 'docker.io/library/ruby', false],
    ['docker.io/library/ruby', 'ruby', false],
    ['127.0.0.1:5000/ok/app:1', '127.0.0.1:5000/ok/*:*', true],
    ['127.0.0.1:5000/evil:1', '127.0.0.1:5000/ok/*:*', false],
    ['ruby', '!*/kali*', false],
    ['ruby', '**', true],
  ])('%s against %s: %s', (image, pattern, expected) => {
    expect(globMatches(image, pattern)).toBe(expected);
  });
});

describe('checkAllowedImage', () => {
  it('allows everything with an empty list, and internal images always', () => {
    expect(checkAllowedImage({ image: 'x', kind: 'images', patterns: [], internal: [] })).toEqual({ allowed: true });
    expect(checkAllowedImage({ image: 'x', kind: 'images', patterns: ['y'], internal: ['x'] })).toEqual({ allowed: true });
  });

  it("refuses with gitlab-runner's lines", () => {
    const r = checkAllowedImage({ image: 'evil:1', kind: 'services', patterns: ['ok/*', 'good:*'], internal: [] });
    expect(r.allowed).toBe(false);
    if (r.allowed) return;
    expect(r.lines).toEqual([
      { level: 'println', text: '' },
      { level: 'error', text: 'The "evil:1" image is not present on list of allowed services:' },
      { level: 'println', text: '- ok/*' },
      { level: 'println', text: '- good:*' },
      { level: 'println', text: '' },
      {
        level: 'println',
        text: "Please check runner's allowed_images configuration: https://docs.gitlab.com/runner/configuration/advanced-configuration/",
      },
    ]);
  });

  it('hints when another spelling of the same image would match', () => {
    const r = checkAllowedImage({ image: 'ruby:3', kind: 'images', patterns: ['docker.io/library/ruby:*'], internal: [] });
    expect(r.allowed).toBe(false);
    if (r.allowed) return;
    expect(r.lines.map((l) => l.text)).toContain(
      'Note: patterns match the name as written; "docker.io/library/ruby:3" (the same image, spelled differently) would be allowed.',
    );
  });
});
