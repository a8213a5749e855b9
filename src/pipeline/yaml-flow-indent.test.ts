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

  it('the bracket at the column of the list item, with more keys and jobs after it (cryptsetup 2023-2026)', async () => {
    const p = await projects.compile(`
test-disable:
  parallel:
    matrix:
      - DISABLE_FLAGS: [
          "keyring",
          # a comment less indented than the items
  # and another
          "udev"
      ]
  artifacts:
    paths:
      - logs
  variables: {
    A: "1",
    B: "2"
}
  script:
    - echo "$DISABLE_FLAGS"

next:
  script: [echo]
  needs: [
    "test-disable"
]
`);
    expect(p.jobs.map((j) => j.name)).toEqual(['test-disable: [keyring]', 'test-disable: [udev]', 'next']);
    expect(p.jobs[0]!.spec.artifacts.map((a) => a.paths)).toEqual([['logs']]);
    expect(p.jobs[0]!.spec.variables.filter((v) => v.key === 'A' || v.key === 'B').map((v) => v.value)).toEqual(['1', '2']);
    expect(p.jobs[1]!.spec.steps[0]!.script).toEqual(['echo "$DISABLE_FLAGS"']);
    expect(p.jobs[2]!.needs?.map((n) => n.job)).toEqual(['test-disable: [keyring]', 'test-disable: [udev]']);
  });

  it('an error after such a bracket still names its own line', async () => {
    await expect(projects.compile('build:\n  script: [\n    echo\n]\n  image: *nope\n')).rejects.toThrow(/^\.gitlab-ci\.yml:5: YAML alias \*nope/);
  });

  it('other syntax errors are still errors naming the line', async () => {
    await expect(projects.compile('build:\n  script: [echo\n')).rejects.toThrow(/YAML syntax error/);
  });
});
