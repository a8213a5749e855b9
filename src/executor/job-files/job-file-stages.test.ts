/**
 * The cache and artifact stages under runJob, on the fake executor with an in-memory project
 * directory and in-memory transports: gitlab-runner's stage order and section names, `when`
 * and policy, failure priorities (a script error outranks an upload error; a cache problem never
 * fails the job), and what is archived and extracted.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { pack } from 'tar-stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FakeExecutor, type FakeExecutorOptions } from '../../../test/support/fake-executor.js';
import { secretVariable, testJob, testRunner } from '../../../test/support/job-fixtures.js';
import { MemoryProjectFiles } from '../../../test/support/memory-project-files.js';
import { cacheName, type CacheName } from '../../artifacts/cache-key.js';
import { writeZip } from '../../artifacts/write-zip.js';
import type { FileEntry } from '../../artifacts/file-entry.js';
import type { ArtifactSpec, CacheSpec, JobSpec } from '../../job/job-spec.js';
import { plainVariable } from '../../job/job-spec.js';
import { MemoryByteWriter } from '../../log/byte-writer.js';
import { JobLog } from '../../log/job-log.js';
import { stripAnsi } from '../../shared/ansi.js';
import { BerthError } from '../../shared/errors.js';
import { runJob } from '../run-job.js';
import { ArtifactDownloadError } from '../../gitlab/artifact-download-error.js';
import { ArtifactTooLargeError } from '../../gitlab/artifact-upload-error.js';
import type { ArtifactTransport, ArtifactUpload, CacheTransport, StreamedArtifactUpload } from './transports.js';
import { PassThrough, Readable } from 'node:stream';

const temp = await mkdtemp(join(tmpdir(), 'berth-job-files-test-'));
afterAll(() => rm(temp, { recursive: true, force: true }));

const archive = (over: Partial<ArtifactSpec> = {}): ArtifactSpec => ({
  name: '',
  untracked: false,
  paths: ['dist/'],
  exclude: [],
  when: 'on_success',
  artifactType: 'archive',
  artifactFormat: 'zip',
  expireIn: '',
  ...over,
});
const cacheOf = (over: Partial<CacheSpec> = {}): CacheSpec => ({ key: 'deps-$CI_COMMIT_REF_NAME', untracked: false, policy: 'pull-push', paths: ['vendor/'], when: 'on_success', fallbackKeys: [], ...over });

/** A zip of the given files, as a dependency's download or a cache archive. */
async function zipOf(files: Record<string, string>): Promise<string> {
  const file = join(temp, `z-${Math.random().toString(16).slice(2)}.zip`);
  async function* entries(): AsyncGenerator<FileEntry> {
    for (const [path, content] of Object.entries(files)) {
      yield { path, type: 'file', mode: 0o644, mtime: new Date(0), size: Buffer.byteLength(content), linkTarget: '', body: Readable.from([Buffer.from(content)]) };
    }
  }
  await writeZip(entries(), file, { level: 1, signal: new AbortController().signal });
  return file;
}

/** The entries of a zip in order, read with Python's zipfile (an independent reader). */
function zipContents(file: string): { name: string; content: Buffer }[] {
  const script = `
import base64, json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
print(json.dumps([dict(name=i.filename, content=base64.b64encode(z.read(i)).decode()) for i in z.infolist()]))
`;
  const out = JSON.parse(execFileSync('python3', ['-c', script, file], { encoding: 'utf8' })) as { name: string; content: string }[];
  return out.map((e) => ({ name: e.name, content: Buffer.from(e.content, 'base64') }));
}

/** A tar of the given files (tar-stream), as gitlab-runner's tarzstd archiver writes before zstd. */
async function tarOf(files: Record<string, string>): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on('data', (c) => chunks.push(c as Buffer));
  const ended = new Promise<void>((resolve) => p.on('end', () => resolve()));
  for (const [name, content] of Object.entries(files)) p.entry({ name, mode: 0o644, mtime: new Date(0) }, content);
  p.finalize();
  await ended;
  return Buffer.concat(chunks);
}

class MemoryArtifacts implements ArtifactTransport {
  readonly uploads: (ArtifactUpload & { kept: string })[] = [];
  downloads: Record<number, string> = {};
  failUpload: Error | null = null;
  /** Downloads that fail before they work (a flaky object storage). */
  failDownloads = 0;
  downloadCalls = 0;
  async upload(req: ArtifactUpload): Promise<void> {
    if (this.failUpload) throw this.failUpload;
    const kept = join(temp, `up-${this.uploads.length}-${req.filename}`);
    await copyFile(req.file, kept);
    this.uploads.push({ ...req, kept });
  }
  async download(dep: { id: number; name: string }) {
    this.downloadCalls++;
    if (this.failDownloads-- > 0) throw new BerthError('artifacts_error', `${dep.name}: 502 Bad Gateway`);
    const path = this.downloads[dep.id];
    if (!path) throw new ArtifactDownloadError(`${dep.name}: file does not exist`, 'not-found', 404);
    return { path, release: async () => undefined };
  }
}

/** Keyed by storage key; `names` records every name asked for. */
class MemoryCache implements CacheTransport {
  readonly stored = new Map<string, string>();
  readonly restores: string[] = [];
  readonly names: CacheName[] = [];
  /** A runner's cache (true), or a store a repository could write (berth exec's `.berth/`). */
  writtenByRunners = true;
  async restore(nameIn: CacheName | string) {
    const name = cacheName(nameIn);
    this.names.push(name);
    this.restores.push(name.storageKey);
    const path = this.stored.get(name.storageKey);
    return path ? { path, release: async () => undefined, writtenByRunners: this.writtenByRunners } : null;
  }
  async save(nameIn: CacheName | string, file: string) {
    const name = cacheName(nameIn);
    this.names.push(name);
    const kept = join(temp, `cache-${this.stored.size}.zip`);
    await copyFile(file, kept);
    this.stored.set(name.storageKey, kept);
    return true;
  }
}

async function run(
  job: Partial<JobSpec> & { script?: string[]; afterScript?: string[] },
  files: MemoryProjectFiles,
  opts: FakeExecutorOptions = {},
  transports: { artifacts?: MemoryArtifacts; cache?: MemoryCache; runnerFeatureFlags?: Record<string, boolean> } = {},
) {
  const executor = new FakeExecutor({ projectFiles: files, variables: [plainVariable('CI_COMMIT_REF_NAME', 'main'), plainVariable('CI_JOB_NAME', 'build')], ...opts });
  const sink = new MemoryByteWriter();
  const log = new JobLog(sink, { traceSections: true });
  const artifacts = transports.artifacts ?? new MemoryArtifacts();
  const cache = transports.cache ?? new MemoryCache();
  const runner = testRunner(transports.runnerFeatureFlags ? { featureFlags: transports.runnerFeatureFlags } : {});
  const result = await runJob({ job: testJob(job), executor, log, runner, files: { artifacts, cache, tempRoot: temp } });
  const text = stripAnsi(sink.text);
  const sections = [...sink.text.matchAll(/section_start:\d+:(\w+)/g)].map((m) => m[1]);
  return { result, text, sections, artifacts, cache, executor };
}

describe('job-file stages in runJob', () => {
  it('runs restore_cache, download_artifacts, the script, archive_cache and upload_artifacts_on_success in gitlab-runner\'s order', async () => {
    const artifacts = new MemoryArtifacts();
    artifacts.downloads[7] = await zipOf({ 'dist/from-dep.txt': 'dep' });
    const files = new MemoryProjectFiles({ 'dist/app.js': 'app', 'vendor/lib.js': 'lib' });
    const { result, sections, text, cache } = await run(
      { artifacts: [archive()], cache: [cacheOf()], dependencies: [{ id: 7, name: 'compile', token: 't', artifactsFile: { filename: 'artifacts.zip', size: 1 } }] },
      files,
      {},
      { artifacts },
    );
    expect(result.state).toBe('success');
    expect(sections).toEqual(['restore_cache', 'download_artifacts', 'step_script', 'archive_cache', 'upload_artifacts_on_success']);
    expect(text).toContain('Checking cache for deps-main...');
    expect(text).toContain('Downloading artifacts for compile (7)...');
    expect(files.content('dist/from-dep.txt')).toBe('dep');
    expect(text).toContain('Creating cache deps-main...');
    expect(cache.stored.has('deps-main')).toBe(true);
    expect(artifacts.uploads.map((u) => [u.filename, u.format])).toEqual([['artifacts.zip', 'zip']]);
    expect(text).toMatch(/dist\/: found 3 matching artifact files and directories/);
  });

  it('restores what the cache holds into the project, falling back along fallback_keys', async () => {
    const cache = new MemoryCache();
    cache.stored.set('fallback', await zipOf({ 'vendor/cached.txt': 'from cache' }));
    const files = new MemoryProjectFiles({});
    const { text } = await run({ cache: [cacheOf({ key: 'primary', fallbackKeys: ['fallback'] })] }, files, {}, { cache });
    expect(cache.restores).toEqual(['primary', 'fallback']);
    expect(text).toMatch(/Checking cache for primary\.\.\.\nFailed to extract cache\nChecking cache for fallback\.\.\.\nSuccessfully extracted cache/);
    expect(files.content('vendor/cached.txt')).toBe('from cache');
  });

  describe('FF_HASH_CACHE_KEYS', () => {
    const vars = (ff?: string) => [plainVariable('CI_COMMIT_REF_NAME', 'main'), ...(ff === undefined ? [] : [plainVariable('FF_HASH_CACHE_KEYS', ff)])];
    const sha = (s: string) => createHash('sha256').update(s).digest('hex');

    it('on (a job variable): the key is not sanitised, stored under its sha256, the other naming as alternate, log lines keep the key', async () => {
      const cache = new MemoryCache();
      const files = new MemoryProjectFiles({ 'vendor/a.txt': 'a' });
      const { text } = await run({ cache: [cacheOf({ key: 'deps/../$CI_COMMIT_REF_NAME ', fallbackKeys: ['fb'] })] }, files, { variables: vars('true') }, { cache });
      const raw = 'deps/../main ';
      expect(text).not.toContain('sanitized');
      expect(text).toContain(`Checking cache for ${raw}...`);
      expect(text).toContain(`Creating cache ${raw}...`);
      expect(cache.restores).toEqual([sha(raw), sha('fb')]);
      expect(cache.names[0]).toEqual({ key: raw, storageKey: sha(raw), alternateKey: raw, hashed: true });
      expect(cache.names[1]).toEqual({ key: 'fb', storageKey: sha('fb'), alternateKey: 'fb', hashed: true });
      expect([...cache.stored.keys()]).toEqual([sha(raw)]);
    });

    it('off (the default, or a value Go cannot parse): sanitised key, sha256 as the alternate', async () => {
      for (const ff of [undefined, 'false', 'yes']) {
        const cache = new MemoryCache();
        const { text } = await run({ cache: [cacheOf({ key: 'deps/../$CI_COMMIT_REF_NAME ' })] }, new MemoryProjectFiles({ 'vendor/a.txt': 'a' }), { variables: vars(ff) }, { cache });
        expect(text).toContain('cache key "deps/../main " sanitized to "main"');
        expect(cache.names[0]).toEqual({ key: 'main', storageKey: 'main', alternateKey: sha('main'), hashed: false });
      }
    });

    it('config.toml feature_flags win over the job variable (common/build_settings.go populateFeatureFlags)', async () => {
      const off = new MemoryCache();
      await run({ cache: [cacheOf({ key: 'k' })] }, new MemoryProjectFiles({ 'vendor/a.txt': 'a' }), { variables: vars('true') }, { cache: off, runnerFeatureFlags: { FF_HASH_CACHE_KEYS: false } });
      expect(off.restores).toEqual(['k']);
      const on = new MemoryCache();
      await run({ cache: [cacheOf({ key: 'k' })] }, new MemoryProjectFiles({ 'vendor/a.txt': 'a' }), { variables: vars('false') }, { cache: on, runnerFeatureFlags: { FF_HASH_CACHE_KEYS: true } });
      expect(on.restores).toEqual([sha('k')]);
    });
  });

  it('a failed script: the on_failure stages, only matching entries, and the script error stays the job\'s', async () => {
    const artifacts = new MemoryArtifacts();
    artifacts.failUpload = new BerthError('gitlab_api_error', 'too large');
    const files = new MemoryProjectFiles({ 'dist/app.js': 'x', 'logs/out.txt': 'log' });
    const { result, sections } = await run(
      {
        artifacts: [archive(), archive({ paths: ['logs/'], when: 'always', name: 'logs' })],
        cache: [cacheOf({ when: 'on_success' }), cacheOf({ key: 'fail-cache', paths: ['logs/'], when: 'on_failure' })],
      },
      files,
      { stages: { step_script: { exitCode: 2 } } },
      { artifacts },
    );
    expect(result).toMatchObject({ state: 'failed', failureReason: 'script_failure', exitCode: 2 });
    expect(sections).toEqual(['restore_cache', 'step_script', 'archive_cache_on_failure', 'upload_artifacts_on_failure']);
  });

  it('entries whose when is never (a payload value gitlab-runner does not know) are restored but never archived or uploaded', async () => {
    for (const exitCode of [0, 1]) {
      const cache = new MemoryCache();
      cache.stored.set('deps-main', await zipOf({ 'vendor/cached.txt': 'from cache' }));
      const files = new MemoryProjectFiles({ 'dist/app.js': 'app' });
      const { result, sections, artifacts } = await run(
        { artifacts: [archive({ when: 'never' })], cache: [cacheOf({ when: 'never' })] },
        files,
        { stages: { step_script: { exitCode } } },
        { cache },
      );
      expect(result.state).toBe(exitCode === 0 ? 'success' : 'failed');
      expect(sections).toEqual(['restore_cache', 'step_script']);
      expect(files.content('vendor/cached.txt')).toBe('from cache');
      expect(artifacts.uploads).toEqual([]);
      expect([...cache.stored.keys()]).toEqual(['deps-main']);
      expect(cache.stored.get('deps-main')).not.toContain('cache-');
    }
  });

  it('an upload failure fails a job whose script passed (script_failure), with the reason in the log', async () => {
    const artifacts = new MemoryArtifacts();
    artifacts.failUpload = new ArtifactTooLargeError('POST .../artifacts: 413 Request Entity Too Large', 2000);
    const { result, text } = await run({ artifacts: [archive()] }, new MemoryProjectFiles({ 'dist/a': 'a' }), {}, { artifacts });
    // exit_code 1, as gitlab-runner's uploader exits 1 (GitLab's allow_failure:exit_codes sees it).
    expect(result).toMatchObject({ state: 'failed', failureReason: 'script_failure', exitCode: 1 });
    expect(result.message).toContain('413 Request Entity Too Large');
    expect(text).toContain('ERROR: POST .../artifacts: 413 Request Entity Too Large\nFATAL: too large\n');
  });

  it('a download failure fails the job before its script runs', async () => {
    const { result, executor, text } = await run(
      { dependencies: [{ id: 9, name: 'gone', token: 't', artifactsFile: { filename: 'artifacts.zip', size: 1 } }] },
      new MemoryProjectFiles({}),
    );
    expect(result).toMatchObject({ state: 'failed', failureReason: 'script_failure', exitCode: 1 });
    expect(result.message).toContain('gone (9)');
    // gitlab-runner's downloader ends with os.ErrNotExist: FATAL: file does not exist.
    expect(text).toContain('FATAL: file does not exist\n');
    expect(executor.stageNames()).toEqual([]);
  });

  it('ARTIFACT_DOWNLOAD_ATTEMPTS runs a failed download_artifacts stage again, after "Retrying..." and a wait (gitlab-runner attemptExecuteStage)', async () => {
    const artifacts = new MemoryArtifacts();
    artifacts.downloads[9] = await zipOf({ 'dist/app.txt': 'built' });
    artifacts.failDownloads = 1;
    const dependencies = [{ id: 9, name: 'build', token: 't', artifactsFile: { filename: 'artifacts.zip', size: 1 } }];
    const files = new MemoryProjectFiles({});
    const started = Date.now();
    const { result, text, sections } = await run(
      // Without the exponential backoff (5 s first), gitlab-runner's retry waits 1 s.
      { dependencies, variables: [plainVariable('ARTIFACT_DOWNLOAD_ATTEMPTS', '3'), plainVariable('FF_USE_EXPONENTIAL_BACKOFF_STAGE_RETRY', 'false')] },
      files,
      {},
      { artifacts },
    );
    expect(result.state).toBe('success');
    expect(Date.now() - started).toBeGreaterThanOrEqual(990);
    expect(artifacts.downloadCalls).toBe(2);
    expect(sections.filter((n) => n === 'download_artifacts')).toHaveLength(2);
    expect(text).toMatch(/WARNING: Retrying\.\.\. +error=downloading the artifacts of build \(9\) failed: build: 502 Bad Gateway\n/);
    expect(files.content('dist/app.txt')).toBe('built');

    // Without it (the default, 1): one try, the job fails.
    const once = new MemoryArtifacts();
    once.failDownloads = 1;
    const failed = await run({ dependencies }, new MemoryProjectFiles({}), {}, { artifacts: once });
    expect(failed.result.state).toBe('failed');
    expect(once.downloadCalls).toBe(1);
    expect(failed.text).not.toContain('Retrying');
  });

  it('attempts out of range are clamped, and a value that is no integer falls back to 1, each with gitlab-runner\'s warning', async () => {
    const { text } = await run(
      { variables: [plainVariable('ARTIFACT_DOWNLOAD_ATTEMPTS', '15'), plainVariable('RESTORE_CACHE_ATTEMPTS', 'two'), plainVariable('CACHE_REQUEST_TIMEOUT', '10m'), plainVariable('TRANSFER_METER_FREQUENCY', '5')] },
      new MemoryProjectFiles({}),
    );
    expect(text).toContain('WARNING: RESTORE_CACHE_ATTEMPTS: expected int got "two", using default value: 1');
    expect(text).toContain('WARNING: CACHE_REQUEST_TIMEOUT: expected int got "10m", using default value: 10');
    expect(text).toContain('WARNING: TRANSFER_METER_FREQUENCY: "5" is not a duration such as "5s" or "1m30s"; the transfer meter is off');
    expect(text).toContain('WARNING: ARTIFACT_DOWNLOAD_ATTEMPTS: number of attempts out of the range [1, 10], clamping to: 10');
  });

  it('no files to upload is an error line, not a failed job; a dependency without artifacts is not downloaded', async () => {
    const { result, text, sections } = await run(
      { artifacts: [archive({ paths: ['missing/'] })], dependencies: [{ id: 3, name: 'lint', token: 't', artifactsFile: null }] },
      new MemoryProjectFiles({}),
    );
    expect(result.state).toBe('success');
    expect(text).toContain('ERROR: No files to upload');
    expect(sections).not.toContain('download_artifacts');
  });

  it('an unknown cache policy fails the job as runner_system_failure before the stage (gitlab-runner: a script generation error)', async () => {
    const cache = new MemoryCache();
    cache.stored.set('good', await zipOf({ 'vendor/cached.txt': 'from cache' }));
    const files = new MemoryProjectFiles({});
    const { result, text, sections } = await run({ cache: [cacheOf({ key: 'good' }), cacheOf({ key: 'bad', policy: 'sometimes' })] }, files, {}, { cache });
    expect(result).toMatchObject({ state: 'failed', failureReason: 'runner_system_failure' });
    expect(result.message).toContain('unknown cache policy sometimes for bad');
    // Nothing of the stage ran: no section, no restore of the first cache.
    expect(sections).not.toContain('restore_cache');
    expect(text).not.toContain('Checking cache for good');
    expect(cache.restores).toEqual([]);
    expect(files.content('vendor/cached.txt')).toBeUndefined();
  });

  it('policy pull restores but does not save; push saves but does not restore', async () => {
    const files = new MemoryProjectFiles({ 'vendor/a': 'a' });
    const pull = await run({ cache: [cacheOf({ key: 'k', policy: 'pull' })] }, files);
    expect(pull.text).toContain('Not uploading cache k due to policy');
    expect(pull.cache.stored.size).toBe(0);
    const push = await run({ cache: [cacheOf({ key: 'k', policy: 'push' })] }, files);
    expect(push.text).toContain('Not downloading cache k due to policy');
    expect(push.cache.restores).toEqual([]);
    expect(push.cache.stored.has('k')).toBe(true);
  });

  it('a cache asked for as tarzstd is written as zip, with a warning that says so; a tar+zstd cache restores', async () => {
    const files = new MemoryProjectFiles({ 'vendor/a': 'a' });
    const variables = [plainVariable('CI_COMMIT_REF_NAME', 'main'), plainVariable('CACHE_COMPRESSION_FORMAT', 'tarzstd')];
    const saved = await run({ cache: [cacheOf({ key: 'k' })] }, files, { variables });
    expect(saved.text).toContain('CACHE_COMPRESSION_FORMAT "tarzstd": berth writes caches as zip (it reads zip, zipzstd and tarzstd caches, as gitlab-runner does)');
    expect((await readFile(saved.cache.stored.get('k')!)).subarray(0, 4)).toEqual(Buffer.from('PK\x03\x04', 'latin1'));
    // gitlab-runner's tarzstd cache: a tar in zstd, still named cache.zip.
    const cache = new MemoryCache();
    const tarzstd = join(temp, 'runner-cache.zip');
    await writeFile(tarzstd, execFileSync('zstd', ['-q', '-c'], { input: await tarOf({ 'vendor/from-runner.txt': 'runner' }) }));
    cache.stored.set('k', tarzstd);
    const into = new MemoryProjectFiles({});
    const restored = await run({ cache: [cacheOf({ key: 'k', policy: 'pull' })] }, into, {}, { cache });
    expect(restored.text).toContain('Successfully extracted cache');
    expect(into.content('vendor/from-runner.txt')).toBe('runner');
    // The same file in a store a repository could have written: not decoded.
    cache.writtenByRunners = false;
    const refused = await run({ cache: [cacheOf({ key: 'k', policy: 'pull' })] }, new MemoryProjectFiles({}), {}, { cache });
    expect(refused.text).toMatch(/is a tar\+zstd archive, which berth reads only as a cache from a runner's own cache folder or bucket[^\n]*\nFailed to extract cache/);
  });

  it('a canceled job (a graceful cancel) still saves its on_failure cache and uploads its on_failure artifacts, as gitlab-runner does, and stays canceled', async () => {
    const executor = new FakeExecutor({ projectFiles: new MemoryProjectFiles({ 'dist/a': 'a', 'vendor/b': 'b' }), stages: { step_script: { delayMs: Infinity } } });
    const artifacts = new MemoryArtifacts();
    const cache = new MemoryCache();
    const cancel = new AbortController();
    const done = runJob({ job: testJob({ artifacts: [archive({ when: 'always' })], cache: [cacheOf({ when: 'always' })] }), executor, log: new JobLog(new MemoryByteWriter()), runner: testRunner(), cancel: cancel.signal, files: { artifacts, cache, tempRoot: temp } });
    await executor.stageStarted('step_script');
    cancel.abort();
    expect((await done).state).toBe('canceled');
    expect(artifacts.uploads.map((u) => u.artifact.artifactType)).toEqual(['archive']);
    expect(cache.stored.size).toBe(1);
  });

  it('an abort (GitLab canceled the job, the runner shuts down) saves and uploads nothing', async () => {
    const executor = new FakeExecutor({ projectFiles: new MemoryProjectFiles({ 'dist/a': 'a', 'vendor/b': 'b' }), stages: { step_script: { delayMs: Infinity } } });
    const artifacts = new MemoryArtifacts();
    const cache = new MemoryCache();
    const abort = new AbortController();
    const done = runJob({ job: testJob({ artifacts: [archive({ when: 'always' })], cache: [cacheOf({ when: 'always' })] }), executor, log: new JobLog(new MemoryByteWriter()), runner: testRunner(), abort: abort.signal, files: { artifacts, cache, tempRoot: temp } });
    await executor.stageStarted('step_script');
    abort.abort();
    expect((await done).state).not.toBe('success');
    expect(artifacts.uploads).toEqual([]);
    expect(cache.stored.size).toBe(0);
  });

  it('reports: gzip members for junit, raw for a single file, with GitLab\'s file names', async () => {
    const files = new MemoryProjectFiles({ 'junit.xml': '<testsuite/>', 'gl-sast-report.json': '{}' });
    const { artifacts } = await run(
      {
        artifacts: [
          archive({ artifactType: 'junit', artifactFormat: 'gzip', name: 'junit.xml', paths: ['junit.xml'], when: 'always' }),
          archive({ artifactType: 'sast', artifactFormat: 'raw', name: 'gl-sast-report.json', paths: ['gl-sast-report.json'], when: 'always' }),
        ],
      },
      files,
    );
    expect(artifacts.uploads.map((u) => [u.artifact.artifactType, u.filename, u.format])).toEqual([
      ['junit', 'junit.xml.gz', 'gzip'],
      ['sast', 'gl-sast-report.json', 'raw'],
    ]);
  });

  it('file names as the uploader makes them: no name → artifacts, a name that expands to nothing → default, else its base name', async () => {
    const files = new MemoryProjectFiles({ 'dist/a': 'a' });
    const { artifacts } = await run(
      {
        artifacts: [archive(), archive({ name: '$UNSET_NAME', when: 'always' }), archive({ name: 'out/sub/', when: 'always' })],
      },
      files,
    );
    expect(artifacts.uploads.map((u) => u.filename)).toEqual(['artifacts.zip', 'default.zip', 'sub.zip']);
  });

  describe('RUNNER_GENERATE_ARTIFACTS_METADATA', () => {
    const sha = (b: string | Buffer): string => createHash('sha256').update(b).digest('hex');
    const SECRET = 'hunter2-very-secret-value';
    const TOKEN = 'glcbt-64_job-token-in-the-url';
    const metadataJob = (over: Partial<JobSpec> = {}): Partial<JobSpec> => ({
      id: 4242,
      jobInfo: { name: 'build', stage: 'build', projectId: 42, projectName: 'project', projectFullPath: 'group/project', pipelineId: 7 },
      gitInfo: { repoUrl: `https://gitlab-ci-token:${TOKEN}@gitlab.example.com/group/project.git`, ref: 'main', sha: 'a1b2c3d4'.repeat(5), beforeSha: '0'.repeat(40), refType: 'branch', refspecs: [], depth: 0 },
      variables: [
        plainVariable('CI', 'true'),
        plainVariable('CI_RUNNER_ID', '77'),
        plainVariable('RUNNER_GENERATE_ARTIFACTS_METADATA', 'true'),
        secretVariable('DEPLOY_TOKEN', SECRET),
      ],
      ...over,
    });

    it('appends <name>-metadata.json last: an SLSA v1 statement whose subjects are the regular files archived, with their sha256; variable names only, never values', async () => {
      const files = new MemoryProjectFiles({ 'dist/a.txt': 'alpha', 'dist/sub/b.txt': 'beta', 'dist/link': { link: 'a.txt' } });
      const before = Date.now();
      const { artifacts, text, result } = await run({ ...metadataJob(), artifacts: [archive({ name: 'dist-$CI_JOB_NAME' })] }, files);
      expect(result.state).toBe('success');
      expect(artifacts.uploads.map((u) => u.filename)).toEqual(['dist-build.zip']);
      const zip = zipContents(artifacts.uploads[0]!.kept);
      expect(zip.map((e) => e.name)).toEqual(['dist/', 'dist/a.txt', 'dist/link', 'dist/sub/', 'dist/sub/b.txt', 'dist-build-metadata.json']);
      const raw = zip.at(-1)!.content;
      const st = JSON.parse(raw.toString('utf8'));
      // folders and the link are archived but are no subjects; each digest is that of the archived bytes
      expect(st.subject).toEqual([
        { name: 'dist/a.txt', digest: { sha256: sha('alpha') } },
        { name: 'dist/sub/b.txt', digest: { sha256: sha('beta') } },
      ]);
      for (const s of st.subject) expect(sha(zip.find((e) => e.name === s.name)!.content)).toBe(s.digest.sha256);
      expect(st._type).toBe('https://in-toto.io/Statement/v0.1');
      expect(st.predicateType).toBe('https://slsa.dev/provenance/v1');
      const def = st.predicate.buildDefinition;
      expect(def.buildType).toBe('https://gitlab.com/gitlab-org/gitlab-runner/-/blob/test/PROVENANCE.md');
      expect(def.externalParameters).toEqual({
        CI: '',
        CI_RUNNER_ID: '',
        RUNNER_GENERATE_ARTIFACTS_METADATA: '',
        DEPLOY_TOKEN: '',
        entryPoint: 'build',
        source: 'https://gitlab.example.com/group/project',
      });
      expect(def.internalParameters).toEqual({ architecture: expect.stringMatching(/^(amd64|arm64|386|arm|s390x|ppc64le|riscv64|loong64)$/), executor: 'docker', job: '4242', name: 'berth-test' });
      expect(def.resolvedDependencies).toEqual([{ uri: 'https://gitlab.example.com/group/project', digest: { sha256: 'a1b2c3d4'.repeat(5) } }]);
      const details = st.predicate.runDetails;
      expect(details.builder).toEqual({ id: 'https://gitlab.example.com/group/project/-/runners/77', version: { berth: 'test' } });
      expect(details.metadata.invocationId).toBe('4242');
      const started = Date.parse(details.metadata.startedOn);
      const finished = Date.parse(details.metadata.finishedOn);
      expect(details.metadata.startedOn).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(started).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000);
      expect(finished).toBeGreaterThanOrEqual(started);
      expect(finished).toBeLessThanOrEqual(Date.now());
      // the masked variable's value and the job token of the repository URL are nowhere in the statement
      expect(raw.toString('utf8')).not.toContain(SECRET);
      expect(raw.toString('utf8')).not.toContain(TOKEN);
      expect(text).toMatch(/Generating artifacts statement\nWARNING: Unknown SLSA provenance version unknown, defaulting to v1\n/);
      expect(text).not.toContain('does not generate artifacts metadata');
    });

    it('is not made for a gzip or raw archive, nor when the variable is false, nor from the stage\'s variables alone (gitlab-runner reads the job\'s)', async () => {
      const files = new MemoryProjectFiles({ 'dist/a.txt': 'alpha' });
      const off = metadataJob({ variables: [plainVariable('RUNNER_GENERATE_ARTIFACTS_METADATA', 'false')] });
      const cases = [
        await run({ ...metadataJob(), artifacts: [archive({ artifactFormat: 'gzip', paths: ['dist/a.txt'] }), archive({ artifactFormat: 'raw', paths: ['dist/a.txt'] })] }, files),
        await run({ ...off, artifacts: [archive()] }, files),
        await run({ ...off, artifacts: [archive()] }, files, { variables: [plainVariable('RUNNER_GENERATE_ARTIFACTS_METADATA', 'true')] }),
      ];
      expect(cases[0]!.artifacts.uploads.map((u) => [u.format, u.filename])).toEqual([
        ['gzip', 'artifacts.gz'],
        ['raw', 'artifacts'],
      ]);
      for (const c of cases.slice(1)) {
        expect(c.artifacts.uploads.map((u) => u.filename)).toEqual(['artifacts.zip']);
        expect(zipContents(c.artifacts.uploads[0]!.kept).map((e) => e.name)).toEqual(['dist/', 'dist/a.txt']);
      }
      for (const c of cases) expect(c.text).not.toMatch(/Generating artifacts statement|SLSA/);
    });

    it('streamed into the upload, each try hashes the files again (the lines once); SLSA_PROVENANCE_SCHEMA_VERSION=v1 does not warn', async () => {
      class StreamedArtifacts extends MemoryArtifacts {
        readonly bodies: Buffer[] = [];
        async uploadStreamed(req: StreamedArtifactUpload): Promise<void> {
          for (let i = 0; i < 2; i++) {
            const out = new PassThrough();
            const chunks: Buffer[] = [];
            out.on('data', (c: Buffer) => chunks.push(c));
            await req.produce(out, new AbortController().signal);
            out.end();
            this.bodies.push(Buffer.concat(chunks));
          }
        }
      }
      const transport = new StreamedArtifacts();
      const files = new MemoryProjectFiles({ 'dist/a.txt': 'alpha' });
      const job = metadataJob();
      const { text } = await run({ ...job, variables: [...job.variables!, plainVariable('SLSA_PROVENANCE_SCHEMA_VERSION', 'v1')], artifacts: [archive()] }, files, {}, { artifacts: transport });
      expect(transport.bodies).toHaveLength(2);
      for (const body of transport.bodies) {
        const zipFile = join(temp, `streamed-${Math.random().toString(16).slice(2)}.zip`);
        await writeFile(zipFile, body);
        const zip = zipContents(zipFile);
        expect(zip.map((e) => e.name)).toEqual(['dist/', 'dist/a.txt', 'artifacts-metadata.json']);
        expect(JSON.parse(zip[2]!.content.toString('utf8')).subject).toEqual([{ name: 'dist/a.txt', digest: { sha256: sha('alpha') } }]);
      }
      expect(text.match(/Generating artifacts statement/g)).toHaveLength(1);
      expect(text).not.toContain('SLSA');
    });

    it('with no file selected the archive still goes up, holding the statement only (it is in gitlab-runner\'s file list); an excluded statement, or one named outside the project, is not archived', async () => {
      const files = new MemoryProjectFiles({ 'dist/a.txt': 'alpha' });
      const { artifacts, text } = await run(
        {
          ...metadataJob(),
          artifacts: [archive({ paths: ['nothing/'] }), archive({ name: 'x', paths: ['*'], exclude: ['*.json'], when: 'always' }), archive({ name: '../up', when: 'always' })],
        },
        files,
      );
      expect(text).not.toContain('No files to upload');
      expect(artifacts.uploads.map((u) => u.filename)).toEqual(['artifacts.zip', 'x.zip', 'up.zip']);
      const only = zipContents(artifacts.uploads[0]!.kept);
      expect(only.map((e) => e.name)).toEqual(['artifacts-metadata.json']);
      expect(JSON.parse(only[0]!.content.toString('utf8'))).not.toHaveProperty('subject');
      expect(zipContents(artifacts.uploads[1]!.kept).map((e) => e.name)).toEqual(['dist/', 'dist/a.txt']);
      expect(zipContents(artifacts.uploads[2]!.kept).map((e) => e.name)).toEqual(['dist/', 'dist/a.txt']);
      expect(text).toContain('WARNING: /builds/group/up-metadata.json: not supported: outside build directory');
      expect(text.match(/Generating artifacts statement/g)).toHaveLength(3);
    });
  });

  it('expire_in goes out as written: gitlab-runner\'s uploader expands name, paths and exclude, never --expire-in', async () => {
    const files = new MemoryProjectFiles({ 'dist/a': 'a' });
    const { artifacts } = await run({ artifacts: [archive({ expireIn: '$EXP' })] }, files, { variables: [plainVariable('EXP', '3 days')] });
    expect(artifacts.uploads.map((u) => u.expireIn)).toEqual(['$EXP']);
  });

  it('artifact paths, exclude and name and cache paths are expanded as gitlab-runner\'s helper does (mvdan shell.Expand), a malformed one warned about and used as written', async () => {
    const files = new MemoryProjectFiles({ 'dist/app.js': 'app', 'dist/app.map': 'map', 'build/x': 'x', 'vendor/lib.js': 'lib', 'vendor-old/stale.js': 'stale' });
    const variables = [plainVariable('CI_COMMIT_REF_NAME', 'main'), plainVariable('EXT', 'map'), plainVariable('VENDOR_DIR', 'vendor-old')];
    const { artifacts, cache, text } = await run(
      {
        artifacts: [archive({ paths: ['${OUT:-dist}/', '${BROKEN'], exclude: ['dist/*.${EXT:0:3}', '$(id)'], name: '${NOPE:-fallback}' })],
        cache: [cacheOf({ key: 'k', paths: ['${VENDOR_DIR%-old}/'] })],
      },
      files,
      { variables },
    );
    expect(text).toContain('dist/: found 2 matching artifact files and directories');
    expect(text).toContain('WARNING: invalid artifacts:paths value "${BROKEN": reached the end without matching ${ with }');
    expect(text).toContain('WARNING: invalid artifacts:exclude value "$(id)": unexpected command substitution');
    expect(artifacts.uploads.map((u) => [u.filename, u.name])).toEqual([['fallback.zip', 'fallback']]);
    const restored = new MemoryProjectFiles({});
    await run({ artifacts: [], cache: [cacheOf({ key: 'k', policy: 'pull' })] }, restored, {}, { cache });
    expect(restored.content('vendor/lib.js')).toBe('lib');
    expect(restored.content('vendor-old/stale.js')).toBeUndefined();
    const uploaded = new MemoryProjectFiles({});
    const from = new MemoryArtifacts();
    from.downloads[5] = artifacts.uploads[0]!.kept;
    await run({ dependencies: [{ id: 5, name: 'build', token: 't', artifactsFile: { filename: 'fallback.zip', size: 1 } }] }, uploaded, {}, { artifacts: from });
    expect(uploaded.content('dist/app.js')).toBe('app');
    expect(uploaded.content('dist/app.map')).toBeUndefined();
  });

  it('a file variable in an artifact name or path is its file\'s path, as in the helper\'s environment, never its content', async () => {
    const files = new MemoryProjectFiles({ 'dist/app.js': 'app' });
    const secret = { key: 'KEYFILE', value: 's3cr3t-content', public: false, masked: false, file: true, raw: false };
    const { artifacts, text } = await run(
      { artifacts: [archive({ paths: ['dist/', '$KEYFILE'], name: 'out-${KEYFILE##*/}' })] },
      files,
      { variables: [plainVariable('CI_COMMIT_REF_NAME', 'main'), secret] },
    );
    expect(artifacts.uploads.map((u) => u.name)).toEqual(['out-KEYFILE']);
    expect(text).not.toContain('s3cr3t-content');
    expect(text).toContain('/builds/group/project.tmp/KEYFILE');
  });

  it('a job without files (no transports or no project) has none of these stages', async () => {
    const executor = new FakeExecutor();
    const sink = new MemoryByteWriter();
    await runJob({ job: testJob({ artifacts: [archive()], cache: [cacheOf()] }), executor, log: new JobLog(sink, { traceSections: true }), runner: testRunner() });
    expect(stripAnsi(sink.text)).not.toMatch(/restore_cache|upload_artifacts|archive_cache/);
  });
});
