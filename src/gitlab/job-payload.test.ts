import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  FIXTURE_FILES,
  LEGACY_JOB_REQUEST,
  LEGACY_JOB_RESPONSE,
  MODERN_JOB_RESPONSE,
} from '../../test/support/gitlab-test-server-fixtures.js';
import type { JobSpec } from '../job/job-spec.js';
import { JobPayloadError, jobSpecFromWire, readJobPayload } from './job-payload.js';

/** What the client does with a job payload it received (gitlab-client.ts requestJob). */
const toJobSpec = (json: unknown): JobSpec => jobSpecFromWire(readJobPayload(json));
const parseJobPayload = (text: string): JobSpec => toJobSpec(JSON.parse(text));

const SHARED = '/work/shared/fixtures/gitlab-api';

function modern(): Record<string, unknown> {
  return JSON.parse(MODERN_JOB_RESPONSE) as Record<string, unknown>;
}

describe('fixtures', () => {
  it.runIf(existsSync(SHARED))('are verbatim copies of the shared fixture files', () => {
    const copies = { MODERN_JOB_RESPONSE, LEGACY_JOB_RESPONSE, LEGACY_JOB_REQUEST };
    for (const [name, file] of Object.entries(FIXTURE_FILES)) {
      expect(copies[name as keyof typeof copies], name).toBe(readFileSync(`${SHARED}/${file}`, 'utf8'));
    }
  });

  it('the legacy request capture has the documented shape', () => {
    const req = JSON.parse(LEGACY_JOB_REQUEST) as { token: string; last_update: string; info: { features: Record<string, boolean> } };
    expect(Buffer.byteLength(LEGACY_JOB_REQUEST.trimEnd())).toBe(409);
    expect(req.token).toMatch(/^[0-9a-f]{30}$/);
    expect(req.last_update).toMatch(/^[0-9a-f]{32}$/);
    expect(req.info.features.variables).toBe(true);
  });
});

describe('parseJobPayload: the modern fixture (gitlab-runner unit test)', () => {
  const job = parseJobPayload(MODERN_JOB_RESPONSE);

  it('maps identity, git and timeout', () => {
    expect(job.id).toBe(10);
    expect(job.token).toBe('job-token');
    expect(job.allowGitFetch).toBe(false);
    expect(job.jobInfo).toEqual({ name: 'test-job', stage: 'test', projectId: 123, projectName: 'test-project', projectFullPath: 'test/test-project', pipelineId: 0 });
    expect(job.gitInfo).toEqual({
      repoUrl: 'https://gitlab-ci-token:testTokenHere1234@gitlab.example.com/test/test-project.git',
      ref: 'main',
      sha: 'abcdef123456',
      beforeSha: '654321fedcba',
      refType: 'branch',
      refspecs: [],
      depth: 0,
    });
    expect(job.timeoutSeconds).toBe(3600);
    expect(job.sources).toEqual({ kind: 'git' });
  });

  it('maps steps and variables', () => {
    expect(job.steps.map((s) => [s.name, s.script, s.when, s.allowFailure])).toEqual([
      ['script', ['date', 'ls -ls'], 'on_success', false],
      ['after_script', ['ls -ls'], 'always', true],
    ]);
    expect(job.variables).toEqual([{ key: 'CI_REF_NAME', value: 'main', public: true, masked: false, file: true, raw: true }]);
  });

  it('keeps hooks that have a script (hooks:pre_get_sources_script), and none when all are empty', () => {
    const p = modern();
    p.hooks = [
      { name: 'pre_get_sources_script', script: ['git config --global http.postBuffer 1'] },
      { name: 'something_later', script: [] },
    ];
    expect(toJobSpec(p).hooks).toEqual([{ name: 'pre_get_sources_script', script: ['git config --global http.postBuffer 1'] }]);
    p.hooks = [{ name: 'pre_get_sources_script', script: [] }];
    expect(toJobSpec(p).hooks).toBeUndefined();
  });

  it('moves image.executor_opts.docker to image.docker', () => {
    expect(job.image).toEqual({ name: 'ruby:3.3', entrypoint: ['/bin/sh'], docker: { platform: 'arm64/v8' } });
  });

  it('maps services with aliases, command and platform', () => {
    expect(job.services).toEqual([
      { name: 'postgresql:9.5', entrypoint: ['/bin/sh'], command: ['sleep', '30'], docker: { platform: 'amd64/linux' }, aliases: ['db-pg'], variables: [] },
      { name: 'mysql:5.6', docker: { platform: 'arm' }, aliases: ['db-mysql'], variables: [] },
    ]);
  });

  it('ignores credentials whose type is not exactly "registry"', () => {
    expect(job.credentials).toEqual([]);
    const p = modern();
    (p.credentials as { type: string }[])[0]!.type = 'registry';
    expect(toJobSpec(p).credentials).toEqual([
      { type: 'registry', url: 'http://registry.gitlab.example.com/', username: 'gitlab-ci-token', password: 'job-token' },
    ]);
  });

  it('keeps artifacts, cache and dependencies in the wire payload', () => {
    const wire = readJobPayload(modern());
    expect(wire.artifacts[0]?.paths).toEqual(['out/*']);
    expect(wire.cache[0]?.policy).toBe('push');
    expect(wire.dependencies[0]).toMatchObject({ id: 9, name: 'other-job', artifacts_file: { filename: 'binaries.zip', size: 13631488 } });
  });
});

describe('parseJobPayload: the legacy capture (GitLab 11.4.5)', () => {
  const job = parseJobPayload(LEGACY_JOB_RESPONSE);

  it('accepts image null, artifacts null, cache [null] and runner_session_url null', () => {
    expect(job.id).toBe(10);
    expect(job.image).toBeNull();
    expect(job.services).toEqual([]);
    expect(job.credentials).toEqual([]);
    expect(readJobPayload(JSON.parse(LEGACY_JOB_RESPONSE)).cache).toEqual([]);
    expect(job.features).toEqual({ traceSections: true, tokenMaskPrefixes: [], failureReasons: [] });
  });

  it('fills what the old payload lacks from its URL and variables', () => {
    expect(job.jobInfo.projectFullPath).toBe('root/runner');
    expect(job.jobInfo.pipelineId).toBe(10);
    expect(job.allowGitFetch).toBe(true);
  });

  it('normalises variables that have no masked/file/raw fields', () => {
    expect(job.variables).toHaveLength(51);
    expect(job.variables.find((v) => v.key === 'CI_JOB_TOKEN')).toEqual({
      key: 'CI_JOB_TOKEN',
      value: 'fzkFsfq2bsyjf6zk7yrv',
      public: false,
      masked: false,
      file: false,
      raw: false,
    });
  });
});

describe('toJobSpec: normalisation rules', () => {
  it('turns a timeout <= 0 into 7200', () => {
    expect(toJobSpec({ ...modern(), runner_info: { timeout: 0 } }).timeoutSeconds).toBe(7200);
    expect(toJobSpec({ ...modern(), runner_info: { timeout: -5 } }).timeoutSeconds).toBe(7200);
    expect(toJobSpec({ ...modern(), runner_info: null }).timeoutSeconds).toBe(7200);
  });

  it('splits a service alias on commas and whitespace', () => {
    const p = modern();
    p.services = [{ name: 'redis', alias: 'cache, kv  store,,x', variables: [{ key: 'A', value: '1' }] }];
    expect(toJobSpec(p).services[0]).toMatchObject({ aliases: ['cache', 'kv', 'store', 'x'], variables: [{ key: 'A', value: '1' }] });
  });

  it('tolerates string entrypoint and command, as GitLab spec fixtures send them', () => {
    const p = modern();
    p.image = { name: 'alpine', entrypoint: '/bin/sh', command: 'sleep 30', executor_opts: { docker: { user: 1000 } }, pull_policy: 'if-not-present' };
    expect(toJobSpec(p).image).toEqual({ name: 'alpine', entrypoint: ['/bin/sh'], command: ['sleep', '30'], pullPolicy: ['if-not-present'], docker: { user: '1000' } });
  });

  it('reads the GitLab spec shape of a plain image and a plain service', () => {
    const p = modern();
    p.image = { name: 'image:1.0', entrypoint: null, ports: [], executor_opts: {}, pull_policy: null };
    p.services = [{ name: 'postgres', entrypoint: null, alias: null, command: null, ports: [], variables: null, executor_opts: {}, pull_policy: null }];
    const job = toJobSpec(p);
    expect(job.image).toEqual({ name: 'image:1.0' });
    expect(job.services).toEqual([{ name: 'postgres', aliases: [], variables: [] }]);
  });

  it('a step `when` gitlab-runner does not know is read, not refused (StepWhen is a plain string in spec.go)', () => {
    const p = modern();
    p.steps = [{ name: 'script', script: ['true'], timeout: 60, when: 'delayed', allow_failure: false }];
    expect(toJobSpec(p).steps[0]!.when).toBe('on_success');
  });

  it('an artifacts or cache `when` gitlab-runner does not know is read as never (archived after no outcome), not refused', () => {
    const p = modern();
    p.artifacts = [
      { name: 'a', untracked: false, paths: ['out/'], when: 'sometimes', expire_in: '' },
      { name: 'b', untracked: false, paths: ['out/'], when: '', expire_in: '' },
    ];
    p.cache = [{ key: 'k', untracked: false, paths: ['vendor/'], policy: 'pull-push', when: 'later' }];
    const job = toJobSpec(p);
    expect(job.artifacts.map((a) => a.when)).toEqual(['never', 'on_success']);
    expect(job.cache.map((c) => c.when)).toEqual(['never']);
  });

  it('keeps git_info.repo_object_format (GitLab entity GitInfo), which the clone must be made with', () => {
    const p = modern();
    p.git_info = { ...(p.git_info as object), repo_object_format: 'sha256', protected: true };
    expect(toJobSpec(p).gitInfo.objectFormat).toBe('sha256');
    p.git_info = { ...(p.git_info as object), repo_object_format: null };
    expect(toJobSpec(p).gitInfo.objectFormat).toBeUndefined();
  });

  it('keeps features.token_mask_prefixes and failure_reasons', () => {
    const p = modern();
    p.features = { trace_sections: true, token_mask_prefixes: ['abc_', null], failure_reasons: ['script_failure', 'image_pull_failure'], tracing: {} };
    expect(toJobSpec(p).features).toEqual({ traceSections: true, tokenMaskPrefixes: ['abc_'], failureReasons: ['script_failure', 'image_pull_failure'] });
  });
});

describe('bad payloads', () => {
  function rejection(fn: () => unknown): JobPayloadError {
    try {
      fn();
    } catch (err) {
      expect(err).toBeInstanceOf(JobPayloadError);
      return err as JobPayloadError;
    }
    throw new Error('expected a JobPayloadError');
  }

  it('missing steps: id and token still readable, token not in the message', () => {
    const p = modern();
    delete p.steps;
    const err = rejection(() => toJobSpec({ ...p, token: 'glcbt-secret-token-xyz' }));
    expect(err.jobId).toBe(10);
    expect(err.jobToken).toBe('glcbt-secret-token-xyz');
    expect(err.message).toContain('job 10');
    expect(err.message).toContain('steps');
    expect(err.message).not.toContain('glcbt-secret-token-xyz');
  });

  it('wrong types are errors, with the path', () => {
    const err = rejection(() => toJobSpec({ ...modern(), variables: [{ key: 'A', value: 5 }] }));
    expect(err.message).toContain('variables.0.value');
    expect(err.jobId).toBe(10);
  });

  it('an unusable id means no id and no token', () => {
    const err = rejection(() => toJobSpec({ ...modern(), id: 'ten' }));
    expect(err.jobId).toBeNull();
    expect(err.jobToken).toBeNull();
  });

  it('empty steps, unknown docker options and unknown pull policies fail the job', () => {
    expect(rejection(() => toJobSpec({ ...modern(), steps: [] })).jobId).toBe(10);
    const p = modern();
    p.image = { name: 'x', executor_opts: { docker: { platform: 'amd64', privileged: true } } };
    expect(rejection(() => toJobSpec(p)).message).toContain('privileged');
    p.image = { name: 'x', pull_policy: ['sometimes'] };
    expect(rejection(() => toJobSpec(p)).message).toContain('pull_policy "sometimes"');
  });

  it('executor_opts other than docker.platform/user and kubernetes.user fail the job as gitlab-runner does: its message, exit code 3', () => {
    const p = modern();
    p.image = { name: 'x', executor_opts: { docker: { platform: 'amd64', user: '1000' }, kubernetes: { user: '1000:1000' } } };
    expect(toJobSpec(p).image?.docker).toEqual({ platform: 'amd64', user: '1000' });
    p.image = { name: 'x', executor_opts: { podman: { user: 'x' } } };
    let err = rejection(() => toJobSpec(p));
    expect(err.message).toContain('Unsupported "image" options [podman] for "executor_opts"; supported options are [docker kubernetes]');
    expect(err.exitCode).toBe(3);
    expect(err.jobId).toBe(10);
    p.image = null;
    p.services = [{ name: 'db', executor_opts: { docker: { platform: 'amd64', privileged: true, cap_add: ['ALL'] } } }];
    err = rejection(() => toJobSpec(p));
    expect(err.message).toContain('Unsupported "image" options [cap_add privileged] for "docker executor"; supported options are [platform user]');
    expect(err.message).toContain('services[0]');
    expect(err.exitCode).toBe(3);
    p.services = [{ name: 'db', executor_opts: { kubernetes: { user: '1', privileged: true } } }];
    expect(rejection(() => toJobSpec(p)).message).toContain('Unsupported "image" options [privileged] for "kubernetes executor"; supported options are [user]');
    // A wrong type is a bad payload, not an unsupported option.
    p.services = [{ name: 'db', executor_opts: { docker: { platform: 5 } } }];
    expect(rejection(() => toJobSpec(p)).exitCode).toBeNull();
  });

  it('10,000 variables and 1 MB values parse', () => {
    const variables = Array.from({ length: 10_000 }, (_, i) => ({ key: `V${i}`, value: i === 0 ? 'x'.repeat(1_000_000) : 'v' }));
    const job = toJobSpec({ ...modern(), variables });
    expect(job.variables).toHaveLength(10_000);
    expect(job.variables[0]!.value).toHaveLength(1_000_000);
  });
});
