/**
 * Runs PullManager.check()+pull() against the real engine for integration tests, collecting
 * every log line and error text (for the secret grep) and counting engine pulls.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EngineClient, PullOptions } from '../../src/engine/engine-client.js';
import type { PulledImage, PullRequest } from '../../src/executor/image-puller.js';
import { type DockerSettings, defaultDockerSettings } from '../../src/executor/docker/docker-settings.js';
import { type PullManagerOptions, PullManager } from '../../src/executor/docker/pull-manager.js';
import type { ImageSpec, JobSpec, JobVariable, RegistryCredential } from '../../src/job/job-spec.js';
import { JobFailure } from '../../src/job/job-result.js';
import { stripAnsi } from '../../src/shared/ansi.js';
import { MemoryByteWriter } from '../../src/log/byte-writer.js';
import { JobLog } from '../../src/log/job-log.js';

export interface PullCase {
  image: string | ImageSpec;
  role?: PullRequest['role'];
  variables?: JobVariable[];
  credentials?: RegistryCredential[];
  settings?: Partial<DockerSettings>;
  runnerEnvironment?: string[];
  /** Contents of <home>/.docker/config.json (or .dockercfg with `legacy`). */
  homeConfig?: string;
  legacyHome?: boolean;
  helperPath?: string;
  defaultPullPolicy?: PullManagerOptions['defaultPullPolicy'];
  policyOverride?: PullManagerOptions['policyOverride'];
}

export interface PullOutcome {
  pulled: PulledImage | null;
  failure: JobFailure | null;
  /** Plain log lines. */
  lines: string[];
  /** Refs the engine was asked to pull. */
  pulls: string[];
  home: string;
}

export function authConfig(entries: Record<string, [string, string]>, extra: Record<string, unknown> = {}): string {
  const auths = Object.fromEntries(
    Object.entries(entries).map(([k, [u, p]]) => [k, { auth: Buffer.from(`${u}:${p}`).toString('base64') }]),
  );
  return JSON.stringify({ auths, ...extra });
}

export function variable(key: string, value: string, over: Partial<JobVariable> = {}): JobVariable {
  return { key, value, public: false, masked: false, file: false, raw: false, ...over };
}

export class PullHarness {
  /** Every log text and error message produced, for the secret grep. */
  readonly transcript: string[] = [];
  private readonly homes: string[] = [];

  constructor(private readonly engine: EngineClient) {}

  async run(c: PullCase): Promise<PullOutcome> {
    const home = mkdtempSync(join(tmpdir(), 'berth-home-'));
    this.homes.push(home);
    if (c.homeConfig !== undefined) {
      if (c.legacyHome) writeFileSync(join(home, '.dockercfg'), c.homeConfig);
      else {
        mkdirSync(join(home, '.docker'));
        writeFileSync(join(home, '.docker', 'config.json'), c.homeConfig);
      }
    }
    const pulls: string[] = [];
    const engine = Object.create(this.engine) as EngineClient;
    engine.pullImage = (ref: string, opts?: PullOptions) => {
      pulls.push(ref);
      return this.engine.pullImage(ref, opts);
    };
    const manager = new PullManager({
      engine,
      settings: { ...defaultDockerSettings(), ...c.settings },
      defaultPullPolicy: c.defaultPullPolicy ?? 'always',
      policyOverride: c.policyOverride,
      runnerEnvironment: c.runnerEnvironment ?? [],
      homeDir: home,
      helperPath: c.helperPath ?? process.env.PATH,
      retry: { attempts: 3, minDelayMs: 50, maxDelayMs: 100 },
    });
    const sink = new MemoryByteWriter();
    const log = new JobLog(sink, { traceSections: false });
    const image = typeof c.image === 'string' ? { name: c.image } : c.image;
    const req: PullRequest = { image, role: c.role ?? { kind: 'build' }, job: testJob(c), log, signal: new AbortController().signal };
    let pulled: PulledImage | null = null;
    let failure: JobFailure | null = null;
    try {
      manager.check(req);
      pulled = await manager.pull(req);
    } catch (err) {
      if (!(err instanceof JobFailure)) throw err;
      failure = err;
      this.transcript.push(err.message);
    }
    const text = stripAnsi(sink.text);
    this.transcript.push(text);
    return { pulled, failure, lines: text.split('\n'), pulls, home };
  }

  dispose(): void {
    for (const h of this.homes) rmSync(h, { recursive: true, force: true });
  }
}

function testJob(c: PullCase): JobSpec {
  return {
    id: 7,
    token: 'glcbt-pull-harness-token',
    allowGitFetch: false,
    jobInfo: { name: 'pull-test', stage: 'test', projectId: 1, projectName: 'p', projectFullPath: 'g/p', pipelineId: 1 },
    gitInfo: { repoUrl: '', ref: '', sha: '', beforeSha: '', refType: '', refspecs: [], depth: 0 },
    timeoutSeconds: 600,
    variables: c.variables ?? [],
    steps: [],
    image: null,
    services: [],
    credentials: c.credentials ?? [],
    features: { traceSections: false, tokenMaskPrefixes: [], failureReasons: [] },
    sources: { kind: 'none' },
    artifacts: [],
    cache: [],
    dependencies: [],
  };
}
