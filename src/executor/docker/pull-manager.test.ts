/**
 * PullManager against a scripted engine: policy order and fallback lines, retries, digest pins,
 * failure reasons, scrubbing. The real engine, registries and helpers: pull-manager.int.test.ts.
 */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FakeEngine } from '../../../test/support/fake-engine.js';
import type { ImageInfo } from '../../engine/engine-client.js';
import { EngineError } from '../../engine/engine-error.js';
import { readPullStream } from '../../engine/pull-stream.js';
import { type JobSpec, plainVariable } from '../../job/job-spec.js';
import { JobFailure } from '../../job/job-result.js';
import { stripAnsi } from '../../shared/ansi.js';
import { MemoryByteWriter } from '../../log/byte-writer.js';
import { JobLog } from '../../log/job-log.js';
import { defaultDockerSettings, type DockerSettings } from './docker-settings.js';
import type { PullRequest } from '../image-puller.js';
import { PullManager } from './pull-manager.js';

const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const ID = `sha256:${'f'.repeat(64)}`;

function image(id: string, repoDigests: string[] = []): ImageInfo {
  return {
    id,
    repoTags: [],
    repoDigests,
    os: 'linux',
    architecture: 'amd64',
    config: { entrypoint: null, cmd: null, env: [], user: '', exposedPorts: [], labels: {} },
  };
}

/** The fake engine with scripted pulls: each pull brings an image or throws. */
function scriptedEngine(onPull: (ref: string) => ImageInfo | Error = () => new Error('no pull expected')): FakeEngine {
  const engine = new FakeEngine();
  engine.onPull = onPull;
  return engine;
}

const pulls = (engine: FakeEngine): { ref: unknown; opts: unknown }[] => engine.callsOf('pullImage').map(([ref, opts]) => ({ ref, opts }));

function job(over: Partial<JobSpec> = {}): JobSpec {
  return {
    id: 1,
    token: 'glcbt-job-token-123',
    allowGitFetch: false,
    jobInfo: { name: 'build', stage: 'test', projectId: 1, projectName: 'p', projectFullPath: 'g/p', pipelineId: 1 },
    gitInfo: { repoUrl: '', ref: '', sha: '', beforeSha: '', refType: '', refspecs: [], depth: 0 },
    timeoutSeconds: 3600,
    variables: [],
    steps: [],
    image: null,
    services: [],
    credentials: [],
    features: { traceSections: false, tokenMaskPrefixes: [], failureReasons: [] },
    sources: { kind: 'none' },
    artifacts: [],
    cache: [],
    dependencies: [],
    ...over,
  };
}

function setup(engine: FakeEngine, settings: Partial<DockerSettings> = {}, defaultPullPolicy: 'always' | 'if-not-present' = 'always') {
  const sink = new MemoryByteWriter();
  const log = new JobLog(sink, { traceSections: false });
  const manager = new PullManager({
    engine,
    settings: { ...defaultDockerSettings(), ...settings },
    defaultPullPolicy,
    runnerEnvironment: [],
    homeDir: '/nonexistent-home',
    helperPath: '/nonexistent-bin',
    retry: { attempts: 3, minDelayMs: 1, maxDelayMs: 2 },
  });
  const req = (name: string, over: Partial<PullRequest> = {}, spec: Partial<JobSpec> = {}): PullRequest => ({
    image: { name },
    role: { kind: 'build' },
    job: job(spec),
    log,
    signal: new AbortController().signal,
    ...over,
  });
  return { manager, req, lines: () => stripAnsi(sink.text).split('\n') };
}

async function failure(p: Promise<unknown> | (() => unknown)): Promise<JobFailure> {
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (err) {
    if (err instanceof JobFailure) return err;
    throw err;
  }
  throw new Error('expected a JobFailure');
}

describe('PullManager: policies', () => {
  it('always: pulls, then creates from the image ID, with the documented lines', async () => {
    const engine = scriptedEngine(() => image(ID, [`reg.test/app@${D1}`]));
    const { manager, req, lines } = setup(engine);
    const pulled = await manager.pull(req('reg.test/app'));
    expect(pulled).toMatchObject({ ref: ID, id: ID });
    expect(pulls(engine).map((p) => p.ref)).toEqual(['reg.test/app:latest']);
    expect(lines()).toEqual([
      'Using effective pull policy of [always] for container reg.test/app',
      'Pulling docker image reg.test/app:latest ...',
      'layer1: Pulling fs layer',
      `Using docker image ${ID} for reg.test/app with digest reg.test/app@${D1} ...`,
      '',
    ]);
  });

  it('if-not-present uses a local image; never fails without one', async () => {
    const engine = scriptedEngine();
    engine.images.set('app:1', image(ID));
    const { manager, req, lines } = setup(engine, { allowedPullPolicies: ['if-not-present', 'never'] }, 'if-not-present');
    expect((await manager.pull(req('app:1'))).id).toBe(ID);
    expect(pulls(engine)).toEqual([]);
    expect(lines()).toContain('Using locally found image version due to "if-not-present" pull policy');
    const f = await failure(manager.pull(req('app:2', { image: { name: 'app:2', pullPolicy: ['never'] } })));
    // gitlab-runner: the daemon's inspect error, unclassified, so a system failure.
    expect(f.reason).toBe('runner_system_failure');
    expect(f.message).toBe('failed to pull image "app:2" with specified policies [never]: Error response from daemon: No such image: app:2');
    expect(lines()).toContain('WARNING: Failed to pull image with policy "never": Error response from daemon: No such image: app:2');
    const untagged = await failure(manager.pull(req('tools/app', { image: { name: 'tools/app', pullPolicy: ['never'] } })));
    expect(untagged.message).toBe('failed to pull image "tools/app" with specified policies [never]: Error response from daemon: No such image: tools/app:latest');
    expect(pulls(engine)).toEqual([]);
  });

  it('falls back to the next policy with gitlab-runner\'s lines', async () => {
    const engine = scriptedEngine(() => new EngineError('pull', 404, 'manifest for reg.test/app:1 not found: manifest unknown'));
    engine.images.set('reg.test/app:1', image(ID));
    const { manager, req, lines } = setup(engine, { pullPolicy: ['always', 'if-not-present'] });
    expect((await manager.pull(req('reg.test/app:1'))).id).toBe(ID);
    expect(pulls(engine)).toHaveLength(1);
    expect(lines()).toEqual(
      expect.arrayContaining([
        'WARNING: Failed to pull image with policy "always": manifest for reg.test/app:1 not found: manifest unknown',
        'Attempt #2: Trying "if-not-present" pull policy',
        'Using locally found image version due to "if-not-present" pull policy',
      ]),
    );
  });

  it('retries network errors per policy, then fails as an external dependency failure (as gitlab-runner)', async () => {
    const engine = scriptedEngine(() => new EngineError('pull', 500, 'Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused'));
    const { manager, req, lines } = setup(engine, { pullPolicy: ['always', 'always'] });
    const f = await failure(manager.pull(req('127.0.0.1:1/app')));
    expect(pulls(engine)).toHaveLength(6);
    expect(f.reason).toBe('runner_external_dependency_failure');
    expect(f.message).toMatch(/^failed to pull image "127.0.0.1:1\/app" with specified policies \[always always\]: .*connection refused/);
    expect(lines().filter((l) => l.includes('Retrying in'))).toHaveLength(4);
  });

  it('a pull ahead of the job\'s turn (prewarm) tries each policy once: the job\'s turn retries', async () => {
    const engine = scriptedEngine(() => new EngineError('pull', 500, 'Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused'));
    const { manager, req, lines } = setup(engine, { pullPolicy: ['always', 'always'] });
    const f = await failure(manager.pull(req('127.0.0.1:1/app', { ahead: true })));
    expect(pulls(engine)).toHaveLength(2);
    expect(f.reason).toBe('runner_external_dependency_failure');
    expect(lines().filter((l) => l.includes('Retrying in'))).toHaveLength(0);
  });

  it('never retries not-found or unauthorized, and classifies them as configuration errors', async () => {
    for (const msg of ['unauthorized: authentication required', 'manifest unknown', 'pull access denied for x']) {
      const engine = scriptedEngine(() => new EngineError('pull', 500, msg));
      const { manager, req } = setup(engine);
      expect((await failure(manager.pull(req('reg.test/app')))).reason).toBe('runner_configuration_error');
      expect(pulls(engine)).toHaveLength(1);
    }
  });

  it('other pull errors are image_pull_failure', async () => {
    const engine = scriptedEngine(() => new EngineError('pull', 0, `filesystem layer verification failed for digest ${D2}`));
    const { manager, req } = setup(engine);
    expect((await failure(manager.pull(req('reg.test/app')))).reason).toBe('image_pull_failure');
  });

  it('an error that is no engine answer is a system failure, as gitlab-runner treats errors it did not classify', async () => {
    const engine = scriptedEngine(() => new TypeError('cannot read properties of undefined'));
    const { manager, req } = setup(engine);
    const f = await failure(manager.pull(req('reg.test/app')));
    expect(f.reason).toBe('runner_system_failure');
    expect(pulls(engine)).toHaveLength(1);
  });

  it('does not pull an image twice in one job', async () => {
    const engine = scriptedEngine(() => image(ID));
    const { manager, req } = setup(engine);
    const r = req('reg.test/app');
    await manager.pull(r);
    await manager.pull({ ...r, role: { kind: 'service', index: 0, fromConfig: false } });
    expect(pulls(engine)).toHaveLength(1);
    await manager.pull(req('reg.test/app'));
    expect(pulls(engine)).toHaveLength(2);
  });

  it('passes an abort through untouched', async () => {
    const engine = scriptedEngine(() => Object.assign(new Error('aborted'), { name: 'AbortError' }));
    const { manager, req } = setup(engine);
    await expect(manager.pull(req('reg.test/app'))).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('an unreachable engine is a system failure at once', async () => {
    const engine = scriptedEngine(() => new EngineError('pull', 0, 'x'));
    engine.inspectImage = async () => {
      throw new EngineError('inspect image', 0, 'Cannot reach the Docker engine (ECONNREFUSED)');
    };
    const { manager, req } = setup(engine);
    expect((await failure(manager.pull(req('reg.test/app')))).reason).toBe('runner_system_failure');
  });
});

describe('PullManager: digests and IDs', () => {
  it('pulls by digest and creates from the digest reference', async () => {
    const engine = scriptedEngine(() => image(ID, [`reg.test/app@${D1}`]));
    const { manager, req } = setup(engine);
    const pulled = await manager.pull(req(`reg.test/app:1@${D1}`));
    expect(pulls(engine).map((p) => p.ref)).toEqual([`reg.test/app@${D1}`]);
    expect(pulled.ref).toBe(`reg.test/app@${D1}`);
  });

  it('never uses a local image that lacks the pinned digest, even with if-not-present or never', async () => {
    const engine = scriptedEngine(() => image(ID, [`reg.test/app@${D1}`]));
    engine.images.set(`reg.test/app@${D1}`, image('sha256:other', [`reg.test/app@${D2}`, `other.test/app@${D1}`]));
    const { manager, req } = setup(engine, {}, 'if-not-present');
    expect((await manager.pull(req(`reg.test/app@${D1}`))).id).toBe(ID);
    expect(pulls(engine)).toHaveLength(1);

    const engine2 = scriptedEngine();
    engine2.images.set(`reg.test/app@${D1}`, image('sha256:other', [`reg.test/app@${D2}`]));
    const s2 = setup(engine2, { allowedPullPolicies: ['never'] });
    const f = await failure(s2.manager.pull(s2.req(`reg.test/app@${D1}`, { image: { name: `reg.test/app@${D1}`, pullPolicy: ['never'] } })));
    expect(f.reason).toBe('runner_system_failure');
    expect(f.message).toContain(`Error response from daemon: No such image: reg.test/app@${D1}`);
  });

  it('fails when the pulled image does not carry the pin', async () => {
    const engine = scriptedEngine(() => image(ID, [`reg.test/app@${D2}`]));
    const { manager, req } = setup(engine);
    const f = await failure(manager.pull(req(`reg.test/app@${D1}`)));
    expect(f.reason).toBe('image_pull_failure');
    expect(f.message).toContain(`no local image carries the pinned digest ${D1}`);
  });

  it('uses an image ID without pulling, and cannot pull one', async () => {
    const engine = scriptedEngine();
    engine.images.set(ID, image(ID));
    const { manager, req } = setup(engine);
    expect(await manager.pull(req(ID))).toMatchObject({ ref: ID, id: ID });
    const missing = `sha256:${'e'.repeat(64)}`;
    expect((await failure(manager.pull(req(missing)))).message).toContain('an image ID names local content and cannot be pulled');
    expect(pulls(engine)).toEqual([]);
  });
});

describe('PullManager: check()', () => {
  it('refuses invalid references naming the job and the key', async () => {
    const { manager, req } = setup(scriptedEngine(), { services: [{ name: 'svc', aliases: [], variables: [] }] });
    const f = await failure(() => manager.check(req('Bad/Name')));
    expect(f.reason).toBe('runner_configuration_error');
    expect(f.message).toBe('job "build", image: invalid image reference "Bad/Name": the repository name must be lowercase');
    const s = await failure(() => manager.check(req('a:', { role: { kind: 'service', index: 2, fromConfig: false } })));
    expect(s.message).toMatch(/^job "build", services\[1\]: invalid image reference "a:"/);
  });

  it('applies allowed_images and allowed_services, config images exempt', async () => {
    const engine = scriptedEngine();
    const { manager, req, lines } = setup(engine, { image: 'runner/default:1', allowedImages: ['ok/*'], allowedServices: ['svc/*:*'] });
    manager.check(req('ok/app'));
    manager.check(req('runner/default:1'));
    manager.check(req('anything', { role: { kind: 'service', index: 0, fromConfig: true } }));
    const f = await failure(() => manager.check(req('evil/app')));
    expect(f).toMatchObject({ reason: 'runner_configuration_error' });
    expect(lines()).toEqual(expect.arrayContaining(['ERROR: The "evil/app" image is not present on list of allowed images:', '- ok/*']));
    const s = await failure(() => manager.check(req('svc/x', { role: { kind: 'service', index: 0, fromConfig: false } })));
    expect(s.message).toContain('allowed_services');
    expect(pulls(engine)).toEqual([]);
  });

  it('refuses a pull policy the runner does not allow', async () => {
    const { manager, req } = setup(scriptedEngine());
    const f = await failure(() => manager.check(req('app', { image: { name: 'app', pullPolicy: ['if-not-present'] } })));
    expect(f.message).toBe(
      'invalid pull policy for image "app": pull_policy ([if-not-present]) defined in GitLab pipeline config is not one of the allowed_pull_policies ([always])',
    );
  });
});

describe('PullManager: secrets', () => {
  it('scrubs known secrets from engine errors and from the thrown failure', async () => {
    const secret = 'masked-variable-value';
    const engine = scriptedEngine(() => new EngineError('pull', 500, `pull access denied for reg.test/${secret} (token glcbt-job-token-123)`));
    const { manager, req, lines } = setup(engine);
    const variables = [{ ...plainVariable('TAG', secret), masked: true }];
    const f = await failure(manager.pull(req('reg.test/app', {}, { variables })));
    expect(f.message).not.toContain(secret);
    expect(f.message).not.toContain('glcbt-job-token-123');
    expect(lines().join('\n')).not.toContain(secret);
    expect(f.message).toContain('[MASKED]');
  });
});

describe('engine contract: pullImage rejects on an error event in the progress stream', () => {
  it('rejects although the HTTP status was 200', async () => {
    const stream = new PassThrough();
    const p = readPullStream(stream, 'reg.test/app:1');
    stream.write('{"status":"Pulling from app","id":"1"}\n');
    stream.end('{"errorDetail":{"message":"unauthorized: authentication required"},"error":"unauthorized: authentication required"}\n');
    await expect(p).rejects.toThrow('unauthorized: authentication required');
  });
});
