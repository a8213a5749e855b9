/**
 * The artifacts statement of RUNNER_GENERATE_ARTIFACTS_METADATA: gitlab-runner's structure and
 * field values (commands/helpers/artifact_metadata.go and its tests), and its protojson layout.
 */
import { describe, expect, it } from 'vitest';
import {
  buildArtifactsStatement,
  PREDICATE_TYPE,
  renderArtifactsStatement,
  schemaVersionWarning,
  STATEMENT_TYPE,
  statementFileName,
  type StatementFacts,
} from './artifacts-statement.js';

const facts = (over: Partial<StatementFacts> = {}): StatementFacts => ({
  runnerId: '1001',
  repoUrl: 'https://gitlab.example.com/group/project',
  repoDigest: 'f0582e2c9a16b5cc2cde90e8be8f1b50fd67c631',
  jobName: 'build',
  executorName: 'docker',
  runnerName: 'runner-1',
  parameters: ['CI', 'SECRET_TOKEN', 'CI_JOB_NAME'],
  startedAt: new Date('2024-05-06T07:08:09.987Z'),
  endedAt: new Date('2024-05-06T07:10:11.001Z'),
  jobId: 1000,
  architecture: 'amd64',
  builder: { name: 'berth', version: '0.1.0' },
  ...over,
});

const SHA_A = 'ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb';

describe('buildArtifactsStatement', () => {
  it('is an in-toto statement with an SLSA v1 predicate holding the job, the runner and the repository', () => {
    const st = buildArtifactsStatement(facts(), [{ name: 'dist/a.txt', digest: { sha256: SHA_A } }]);
    expect(st).toEqual({
      _type: 'https://in-toto.io/Statement/v0.1',
      subject: [{ name: 'dist/a.txt', digest: { sha256: SHA_A } }],
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: {
        buildDefinition: {
          buildType: 'https://gitlab.com/gitlab-org/gitlab-runner/-/blob/0.1.0/PROVENANCE.md',
          externalParameters: { CI: '', SECRET_TOKEN: '', CI_JOB_NAME: '', entryPoint: 'build', source: 'https://gitlab.example.com/group/project' },
          internalParameters: { architecture: 'amd64', executor: 'docker', job: '1000', name: 'runner-1' },
          resolvedDependencies: [{ uri: 'https://gitlab.example.com/group/project', digest: { sha256: 'f0582e2c9a16b5cc2cde90e8be8f1b50fd67c631' } }],
        },
        runDetails: {
          builder: { id: 'https://gitlab.example.com/group/project/-/runners/1001', version: { berth: '0.1.0' } },
          // RFC 3339 to the second (gitlab-runner formats --started-at/--ended-at so), in UTC
          metadata: { invocationId: '1000', startedOn: '2024-05-06T07:08:09Z', finishedOn: '2024-05-06T07:10:11Z' },
        },
      },
    });
    expect(STATEMENT_TYPE).toBe(st._type);
    expect(PREDICATE_TYPE).toBe(st.predicateType);
  });

  it('entryPoint and source win over variables of those names; each name once', () => {
    const st = buildArtifactsStatement(facts({ parameters: ['entryPoint', 'source', 'A', 'A'] }), []);
    expect(st.predicate.buildDefinition.externalParameters).toEqual({ entryPoint: 'build', source: 'https://gitlab.example.com/group/project', A: '' });
  });

  it('a variable named __proto__ is a parameter like any other', () => {
    const st = buildArtifactsStatement(facts({ parameters: ['__proto__'] }), []);
    expect(Object.keys(st.predicate.buildDefinition.externalParameters)).toContain('__proto__');
    expect(JSON.parse(renderArtifactsStatement(st)).predicate.buildDefinition.externalParameters).toHaveProperty(['__proto__'], '');
  });

  it('protojson leaves out what is empty: no subjects, no subject field; no repository URL, no uri', () => {
    const st = buildArtifactsStatement(facts({ repoUrl: '' }), []);
    expect(st).not.toHaveProperty('subject');
    expect(st.predicate.buildDefinition.resolvedDependencies).toEqual([{ digest: { sha256: 'f0582e2c9a16b5cc2cde90e8be8f1b50fd67c631' } }]);
    expect(st.predicate.runDetails.builder.id).toBe('/-/runners/1001');
    expect(JSON.parse(renderArtifactsStatement(st))).toEqual(st);
  });
});

describe('renderArtifactsStatement', () => {
  it('writes protojson\'s multi-line layout: one space per level, the Statement in field order, the predicate with its keys sorted', () => {
    const st = buildArtifactsStatement(facts({ parameters: ['b', 'a', '9', '10'] }), [
      { name: 'z.txt', digest: { sha256: SHA_A } },
      { name: 'a.txt', digest: { sha256: SHA_A } },
    ]);
    expect(renderArtifactsStatement(st)).toBe(
      [
        '{',
        ' "_type": "https://in-toto.io/Statement/v0.1",',
        ' "subject": [',
        '  {',
        '   "name": "z.txt",',
        '   "digest": {',
        `    "sha256": "${SHA_A}"`,
        '   }',
        '  },',
        '  {',
        '   "name": "a.txt",',
        '   "digest": {',
        `    "sha256": "${SHA_A}"`,
        '   }',
        '  }',
        ' ],',
        ' "predicateType": "https://slsa.dev/provenance/v1",',
        ' "predicate": {',
        '  "buildDefinition": {',
        '   "buildType": "https://gitlab.com/gitlab-org/gitlab-runner/-/blob/0.1.0/PROVENANCE.md",',
        '   "externalParameters": {',
        // Go's byte order: "10" before "9" (JavaScript objects would put integer keys first, 9 before 10)
        '    "10": "",',
        '    "9": "",',
        '    "a": "",',
        '    "b": "",',
        '    "entryPoint": "build",',
        '    "source": "https://gitlab.example.com/group/project"',
        '   },',
        '   "internalParameters": {',
        '    "architecture": "amd64",',
        '    "executor": "docker",',
        '    "job": "1000",',
        '    "name": "runner-1"',
        '   },',
        '   "resolvedDependencies": [',
        '    {',
        '     "digest": {',
        '      "sha256": "f0582e2c9a16b5cc2cde90e8be8f1b50fd67c631"',
        '     },',
        '     "uri": "https://gitlab.example.com/group/project"',
        '    }',
        '   ]',
        '  },',
        '  "runDetails": {',
        '   "builder": {',
        '    "id": "https://gitlab.example.com/group/project/-/runners/1001",',
        '    "version": {',
        '     "berth": "0.1.0"',
        '    }',
        '   },',
        '   "metadata": {',
        '    "finishedOn": "2024-05-06T07:10:11Z",',
        '    "invocationId": "1000",',
        '    "startedOn": "2024-05-06T07:08:09Z"',
        '   }',
        '  }',
        ' }',
        '}',
      ].join('\n'),
    );
  });

  it('escapes names as JSON strings', () => {
    const st = buildArtifactsStatement(facts(), [{ name: 'dir/"quoted"\\\n.txt', digest: { sha256: SHA_A } }]);
    expect(JSON.parse(renderArtifactsStatement(st)).subject[0].name).toBe('dir/"quoted"\\\n.txt');
  });
});

describe('schemaVersionWarning', () => {
  it('is silent for v1 and warns for anything else, an unset variable as `unknown` (gitlab-runner passes that)', () => {
    expect(schemaVersionWarning('v1')).toBeNull();
    expect(schemaVersionWarning('')).toBe('Unknown SLSA provenance version unknown, defaulting to v1');
    expect(schemaVersionWarning('v0.2')).toBe('Unknown SLSA provenance version v0.2, defaulting to v1');
  });
});

describe('statementFileName', () => {
  it('is <artifact name>-metadata.json', () => {
    expect(statementFileName('artifacts')).toBe('artifacts-metadata.json');
    expect(statementFileName('dist-build')).toBe('dist-build-metadata.json');
  });
});
