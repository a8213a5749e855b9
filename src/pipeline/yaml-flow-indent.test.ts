import { afterAll, describe, expect, it } from 'vitest';
import { ProjectFactory } from '../../test/support/project-factory.js';

const projects = new ProjectFactory();
afterAll(() => projects.cleanup());

describe('YAML as GitLab (libyaml) reads it', () => {
  it('a flow list whose closing bracket is less indented than its key (cryptsetup\'s pipelines)', async () => {
    const p = await projects.compile(`
build:
  script: [echo]
  parallel:
    matrix:
      - FLAGS: [
          "a",
          "b"
      ]
`);
    expect(p.jobs.map((j) => j.name)).toEqual(['build: [a]', 'build: [b]']);
  });

  it('a flow map closed the same way', async () => {
    const p = await projects.compile(`
build:
  script: [echo]
  variables: {
    A: "1"
  }
`);
    expect(p.jobs[0]!.spec.variables.find((v) => v.key === 'A')?.value).toBe('1');
  });

  it('other syntax errors are still errors naming the line', async () => {
    await expect(projects.compile('build:\n  script: [echo\n')).rejects.toThrow(/YAML syntax error/);
  });
});
