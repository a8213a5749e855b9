/** Builds JobSpecs for tests without a pipeline: a job named `name` running `script`. */
import { randomBytes } from 'node:crypto';
import type { JobSpec, JobVariable } from '../../src/job/job-spec.js';
import { plainVariable } from '../../src/job/job-spec.js';
import type { RunnerIdentity } from '../../src/executor/runner-identity.js';
import { defaultDockerSettings, type DockerSettings } from '../../src/executor/docker/docker-settings.js';

export function testJob(overrides: Partial<JobSpec> & { script?: string[]; afterScript?: string[] } = {}): JobSpec {
  const { script = ['echo hello'], afterScript, ...rest } = overrides;
  const steps: JobSpec['steps'] = [{ name: 'script', script, timeoutSeconds: 3600, when: 'on_success', allowFailure: false }];
  if (afterScript) steps.push({ name: 'after_script', script: afterScript, timeoutSeconds: 3600, when: 'always', allowFailure: true });
  return {
    id: 1,
    token: '',
    allowGitFetch: false,
    jobInfo: { name: 'test-job', stage: 'test', projectId: 42, projectName: 'project', projectFullPath: 'group/project', pipelineId: 7 },
    gitInfo: { repoUrl: '', ref: 'main', sha: '0'.repeat(40), beforeSha: '0'.repeat(40), refType: 'branch', refspecs: [], depth: 0 },
    timeoutSeconds: 600,
    variables: [plainVariable('CI', 'true'), plainVariable('CI_JOB_NAME', 'test-job')],
    steps,
    image: { name: 'berth-test/bash:latest' },
    services: [],
    credentials: [],
    features: { traceSections: true, tokenMaskPrefixes: [], failureReasons: [] },
    sources: { kind: 'none' },
    artifacts: [],
    cache: [],
    dependencies: [],
    ...rest,
  };
}

export function secretVariable(key: string, value: string): JobVariable {
  return { key, value, public: false, masked: true, file: false, raw: false };
}

export function testRunner(overrides: Partial<RunnerIdentity> = {}): RunnerIdentity {
  return {
    name: 'berth-test',
    shortToken: 'test',
    systemId: 's_000000000000',
    runnerId: 0,
    buildsDir: '/builds',
    environment: [],
    preGetSourcesScript: '',
    postGetSourcesScript: '',
    preBuildScript: '',
    postBuildScript: '',
    debugTraceDisabled: false,
    featureFlags: {},
    version: 'test',
    ...overrides,
  };
}

export function testSettings(overrides: Partial<DockerSettings> = {}): DockerSettings {
  return { ...defaultDockerSettings(), waitForServicesTimeout: 10, ...overrides };
}

/** A label unique to one test file's run, put on every object its jobs create. */
export function testRunLabel(): { key: string; value: string; filter: string; labels: Record<string, string> } {
  const value = randomBytes(6).toString('hex');
  return { key: 'berth.test.run', value, filter: `berth.test.run=${value}`, labels: { 'berth.test.run': value } };
}
