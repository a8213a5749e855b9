import { afterAll, describe, expect, it } from 'vitest';
import { ProjectFactory, variableMap } from '../../test/support/project-factory.js';

const projects = new ProjectFactory();
afterAll(() => projects.cleanup());

describe('variables', () => {
  it('follow GitLab precedence: predefined < global < workflow < job < rules < --variable', async () => {
    const p = await projects.compile(`
variables: {CI_COMMIT_REF_NAME: global, G: global, W: global, J: global, R: global, C: global}
workflow:
  rules: [{variables: {W: workflow, J: workflow}}]
job:
  script: x
  variables: {J: job, R: job, C: job}
  rules: [{variables: {R: rule, C: rule}}]
`, { variables: { C: 'cli' } });
    const vars = p.jobs[0]!.spec.variables;
    expect(variableMap(p, 'job')).toMatchObject({ CI_COMMIT_REF_NAME: 'global', G: 'global', W: 'workflow', J: 'job', R: 'rule', C: 'cli' });
    expect(new Set(vars.map((v) => v.key)).size).toBe(vars.length);
    const keys = vars.map((v) => v.key);
    expect(keys.indexOf('CI_JOB_NAME')).toBeLessThan(keys.indexOf('G'));
    expect(keys.indexOf('J')).toBeLessThan(keys.indexOf('C'));
  });

  it('keeps --variable values out of the container environment (not public) unless named with --public-variable', async () => {
    const p = await projects.compile('variables: {Y: yaml}\njob: {script: x}\n', {
      variables: { TOKEN: 's3cret', SHOWN: 'yes' },
      publicVariables: ['SHOWN'],
    });
    const byKey = new Map(p.jobs[0]!.spec.variables.map((v) => [v.key, v]));
    expect(byKey.get('TOKEN')).toMatchObject({ value: 's3cret', public: false, masked: false });
    expect(byKey.get('SHOWN')).toMatchObject({ value: 'yes', public: true });
    expect(byKey.get('Y')).toMatchObject({ value: 'yaml', public: true });
  });

  it('stringify numbers as Ruby does, take the map form and mark expand: false as raw', async () => {
    const p = await projects.compile(`
variables:
  INT: 42
  FLOAT: 1.0
  FLOAT2: 3.10
  OCTAL: 010
  DESCRIBED: {value: "v", description: "shown in the UI"}
  ONLY_DESCRIPTION: {description: "empty value"}
  RAW: {value: "$NOT_EXPANDED", expand: false}
  CHOICE: {value: b, options: [a, b]}
job: {script: x}
`);
    const vars = p.jobs[0]!.spec.variables.filter((v) => !v.key.startsWith('CI') && !v.key.startsWith('GITLAB'));
    expect(vars).toEqual([
      { key: 'INT', value: '42', public: true, masked: false, file: false, raw: false },
      { key: 'FLOAT', value: '1.0', public: true, masked: false, file: false, raw: false },
      { key: 'FLOAT2', value: '3.1', public: true, masked: false, file: false, raw: false },
      { key: 'OCTAL', value: '8', public: true, masked: false, file: false, raw: false },
      { key: 'DESCRIBED', value: 'v', public: true, masked: false, file: false, raw: false },
      { key: 'ONLY_DESCRIPTION', value: '', public: true, masked: false, file: false, raw: false },
      { key: 'RAW', value: '$NOT_EXPANDED', public: true, masked: false, file: false, raw: true },
      { key: 'CHOICE', value: 'b', public: true, masked: false, file: false, raw: false },
    ]);
  });

  it('take booleans as "true"/"false" and a variable without a value as "" (as GitLab)', async () => {
    const p = await projects.compile(`
variables:
  FF_TIMESTAMPS: true
  DISABLED: false
  EMPTY:
  MAPPED: {value: true, description: "a flag"}
job:
  script: x
  variables: {JOB_FLAG: false}
`);
    expect(variableMap(p, 'job')).toMatchObject({ FF_TIMESTAMPS: 'true', DISABLED: 'false', EMPTY: '', MAPPED: 'true', JOB_FLAG: 'false' });
  });

  it('leave values unexpanded for the runner', async () => {
    const p = await projects.compile('variables: {A: "$CI_COMMIT_SHA/x"}\njob: {script: x}\n');
    expect(variableMap(p, 'job').A).toBe('$CI_COMMIT_SHA/x');
  });

  it.each([
    ['job:\n  script: x\n  variables:\n    LIST: [a]', '.gitlab-ci.yml:4: job "job": variable "LIST" must be a string, a number or a boolean, not a list'],
    ['variables: [A]\njob: {script: x}', '.gitlab-ci.yml:1: global variables: variables must be a map of KEY: value, not a list'],
    ['variables:\n  C: {value: c, options: [a, b]}\njob: {script: x}', '.gitlab-ci.yml:2: global variables: variable "C": value "c" is not one of its options (a, b)'],
    ['variables:\n  C: {value: c, secret: true}\njob: {script: x}', '.gitlab-ci.yml:2: global variables: variable "C" has unknown key "secret" (allowed: value, description, options, expand)'],
    ['variables:\n  BAD-NAME: x\njob: {script: x}', '.gitlab-ci.yml:2: global variables: variable name "BAD-NAME" may only contain letters, digits and _'],
  ])('reject %j', async (yaml, message) => {
    expect((await projects.error(`${yaml}\n`)).message).toBe(message);
  });
});
