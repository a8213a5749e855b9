import { describe, expect, it } from 'vitest';
import { InputError } from '../../shared/errors.js';
import { SourcePositions } from './source-positions.js';
import { DEFAULT_YAML_LIMITS } from './yaml-converter.js';
import { parseYamlText } from './yaml-loader.js';
import { ReferenceTag, type YamlMap } from './yaml-value.js';

const parse = (text: string, limits = DEFAULT_YAML_LIMITS) => {
  const positions = new SourcePositions();
  const loaded = parseYamlText(text, '/p/.gitlab-ci.yml', '.gitlab-ci.yml', positions, limits);
  return { value: loaded.value as YamlMap, positions, warnings: loaded.warnings };
};

const errorOf = (text: string, limits = DEFAULT_YAML_LIMITS): InputError => {
  try {
    parse(text, limits);
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
  throw new Error('parsed without error');
};

describe('parseYamlText', () => {
  it('resolves anchors, aliases and merge keys', () => {
    const { value } = parse(['.base: &base', '  image: alpine', '  tags: [a]', 'job:', '  <<: *base', '  tags: [b]', '  script: *x', ''].join('\n').replace('*x', '[echo]'));
    expect(JSON.parse(JSON.stringify(value.job))).toEqual({ image: 'alpine', tags: ['b'], script: ['echo'] });
  });

  it('resolves an alias to the last anchor of its name before it, also when the name is reused', () => {
    const { value } = parse('a: &v one\nb: *v\nc: &v two\nd: *v\ne: [&w {k: 1}, *w]\nf: &v three\n');
    expect({ ...value }).toMatchObject({ b: 'one', d: 'two', f: 'three' });
    expect(JSON.parse(JSON.stringify(value.e))).toEqual([{ k: 1 }, { k: 1 }]);
    expect(() => parse('a: *later\nb: &later x\n')).toThrow(/unknown anchor/);
  });

  it('merges a list of maps with the earlier map winning, as Psych does', () => {
    const { value } = parse('a: &a {x: 1, y: 1, n: 0}\nb: &b {x: 2, z: 2}\nc:\n  <<: [*a, *b]\n');
    expect({ ...(value.c as YamlMap) }).toEqual({ x: 1, z: 2, y: 1, n: 0 });
  });

  it('records the line of each key, including keys that came through a merge', () => {
    const { value, positions } = parse('.t: &t\n  image: alpine\njob:\n  <<: *t\n  script: [x]\n');
    const job = value.job as YamlMap;
    expect(positions.key(job, 'script')?.line).toBe(5);
    expect(positions.key(job, 'image')?.line).toBe(2);
    expect(positions.key(value, 'job')?.line).toBe(3);
  });

  it('keeps !reference as a tag with its path and line', () => {
    const { value } = parse('job:\n  script:\n    - !reference [.setup, script]\n');
    const tag = ((value.job as YamlMap).script as unknown[])[0] as ReferenceTag;
    expect(tag).toBeInstanceOf(ReferenceTag);
    expect(tag.path).toEqual(['.setup', 'script']);
    expect(tag.where.line).toBe(3);
  });

  it('rejects a !reference that is not a list', () => {
    expect(errorOf('job:\n  script: !reference .setup\n').message).toMatch(/^\.gitlab-ci\.yml:2: !reference must be followed by a list/);
  });

  it('uses YAML 1.1 scalars like Psych: yes/on are booleans, 010 is octal, 1:30 is sexagesimal', () => {
    const { value } = parse('a: yes\nb: on\nc: 010\nd: 1:30\ne: "on"\n');
    expect({ ...value }).toEqual({ a: true, b: true, c: 8, d: 90, e: 'on' });
  });

  it('reads an exponent as Psych does: only with a dot and a sign (1.5e+3); e2, 1e3 and 1.5e3 stay strings', () => {
    const { value } = parse('e2: a\nb: 1e3\nc: 1.5e3\nd: 1.5e+3\ne: -2.0E-2\nf: .e+3\ng: +.E-1\nh: .5e+1\n');
    expect({ ...value }).toEqual({ e2: 'a', b: '1e3', c: '1.5e3', d: 1500, e: -0.02, f: '.e+3', g: '+.E-1', h: 5 });
  });

  it('marks integral floats so variables print them as Ruby does', () => {
    const { value, positions } = parse('a: 1.0\nb: 1\nc: 1.5\n');
    expect(positions.key(value, 'a')?.float).toBe(true);
    expect(positions.key(value, 'b')?.float).toBeUndefined();
    expect(positions.key(value, 'c')?.float).toBeUndefined();
  });

  it('names file, line and column of a syntax error', () => {
    const err = errorOf('job:\n  script: [a, b\nother: 1\n');
    expect(err.message).toMatch(/^\.gitlab-ci\.yml:\d+:\d+: YAML syntax error: /);
    expect(err.file).toBe('/p/.gitlab-ci.yml');
  });

  it('keeps the last value of a key written twice, with a warning naming its line (GitLab accepts it)', () => {
    const { value, warnings } = parse('job:\n  script: a\n  script: b\n');
    expect(value.job).toEqual({ script: 'b' });
    expect(warnings).toEqual(['.gitlab-ci.yml:3: key "script" is written twice in the same map; the last value is used']);
  });

  it('does not count a key set by a merge key as written twice', () => {
    const { value, warnings } = parse('.t: &t {image: a}\njob:\n  <<: *t\n  image: b\n  <<: {when: manual}\n');
    expect(value.job).toEqual({ image: 'b', when: 'manual' });
    expect(warnings).toEqual([]);
  });

  it('rejects a billion-laughs alias bomb quickly', () => {
    const lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const cur = String.fromCharCode(97 + i);
      lines.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    const start = Date.now();
    const err = errorOf(lines.join('\n'));
    expect(err.message).toMatch(/alias bomb/);
    expect(Date.now() - start).toBeLessThan(1000);
  });

  it('limits the number of aliases', () => {
    const text = 'a: &a 1\nb: [' + Array(20).fill('*a').join(', ') + ']\n';
    expect(errorOf(text, { ...DEFAULT_YAML_LIMITS, maxAliases: 10 }).message).toMatch(/^\.gitlab-ci\.yml:2: more than 10 YAML aliases/);
  });

  it('rejects nesting deeper than 100 levels, also when reached through aliases', () => {
    expect(errorOf('a: ' + '['.repeat(150) + ']'.repeat(150)).message).toMatch(/nesting is deeper than 100 levels/);
    const deep = '['.repeat(60) + ']'.repeat(60);
    expect(errorOf(`a: &a ${deep}\nb: ${'['.repeat(60)}*a${']'.repeat(60)}\n`).message).toMatch(/deeper than 100 levels/);
  });

  it('reports a parser stack overflow as nesting too deep', () => {
    expect(errorOf('a: ' + '['.repeat(20000) + ']'.repeat(20000)).message).toMatch(/YAML syntax error: the YAML is nested too deeply/);
  });

  it('skips a spec: header document', () => {
    const { value } = parse('spec:\n  inputs: {}\n---\njob:\n  script: x\n');
    expect(Object.keys(value)).toEqual(['job']);
  });

  it('rejects several configuration documents', () => {
    expect(errorOf('a: 1\n---\nb: 2\n').message).toMatch(/^\.gitlab-ci\.yml:2: more than one YAML document/);
  });

  it('warns about unknown tags', () => {
    expect(parse('a: !custom 1\n').warnings).toEqual(['.gitlab-ci.yml:1: Unresolved tag: !custom']);
  });
});
