/**
 * `berth run` with artifacts, dependencies, dotenv and cache, end to end: the built daemon against
 * the GitLab API test server (artifacts endpoints as GitLab and Workhorse behave), the real
 * engine, and an S3 server (s3rver) for the distributed cache.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DockerodeEngine } from '../../src/engine/dockerode-engine.js';
import { findLeftovers, NO_LEFTOVERS } from '../support/leftovers.js';
import { createRunFixture, type RunFixture } from '../support/run-fixture.js';
import { startS3TestServer, type S3TestServer } from '../support/s3-test-server.js';
import type { TestJob } from '../support/gitlab-test-server.js';
import { traceText } from '../support/trace-text.js';
import { shortToken } from '../../src/gitlab/short-token.js';

const engine = new DockerodeEngine();
let fx: RunFixture | null = null;
let s3: S3TestServer | null = null;

afterEach(async () => {
  if (fx) {
    await fx.close();
    const left = await findLeftovers(engine, fx.labelFilter);
    for (const c of await engine.listContainers([fx.labelFilter])) await engine.removeContainer(c.id, { force: true });
    for (const n of await engine.listNetworks([fx.labelFilter])) await engine.removeNetwork(n.id);
    for (const v of await engine.listVolumes([fx.labelFilter])) await engine.removeVolume(v.name);
    expect(left).toEqual(NO_LEFTOVERS);
  }
  await s3?.stop();
  fx = null;
  s3 = null;
});

const trace = (job: TestJob): string => traceText(job);
const done = (f: RunFixture, job: TestJob) => f.gl.waitFor(() => job.final !== null, 90_000, `the final update of job ${job.id}`);

const archive = (paths: string[], extra: Record<string, unknown> = {}) => ({
  name: 'dist',
  untracked: false,
  paths,
  when: 'on_success',
  artifact_type: 'archive',
  artifact_format: 'zip',
  expire_in: '1 week',
  ...extra,
});

describe('berth run: artifacts and dependencies', () => {
  it('uploads a job\'s archive and reports to GitLab; a dependent job downloads and extracts it and gets the dotenv variables', async () => {
    fx = await createRunFixture();
    fx.writeConfig();
    const build = fx.enqueue({
      name: 'build',
      script: ['mkdir -p dist/sub && echo built > dist/app.txt && echo deep > dist/sub/x.txt && ln -s app.txt dist/link', 'echo "VERSION=2.0.1" > build.env'],
      overrides: {
        artifacts: [
          archive(['dist/']),
          { name: '.env', untracked: false, paths: ['build.env'], when: 'always', artifact_type: 'dotenv', artifact_format: 'gzip', expire_in: '1 week' },
        ],
      },
    });
    const run = fx.start();
    await done(fx, build);
    const buildTrace = trace(build);
    expect(build.final, buildTrace).toMatchObject({ state: 'success' });
    expect(buildTrace).toMatch(/dist\/: found 5 matching artifact files and directories/);
    expect(buildTrace).toMatch(/Uploading artifacts as "archive" to coordinator\.\.\. 201 Created/);
    expect(buildTrace).toMatch(/Uploading artifacts as "dotenv" to coordinator\.\.\. 201 Created/);
    expect(buildTrace).not.toContain(build.token);
    expect(build.archive).toMatchObject({ type: 'archive', format: 'zip', filename: 'dist.zip', expireIn: '1 week' });
    expect(build.dotenv).toEqual([{ key: 'VERSION', value: '2.0.1' }]);

    const test = fx.enqueue({ name: 'test', script: ['cat dist/app.txt dist/sub/x.txt', 'echo "link=$(readlink dist/link)"', 'echo "version=$VERSION"'], dependencies: [build] });
    await done(fx, test);
    const testTrace = trace(test);
    expect(test.final, testTrace).toMatchObject({ state: 'success' });
    expect(testTrace).toContain(`Downloading artifacts for build (${build.id})...`);
    expect(testTrace).toMatch(/Downloading artifacts from coordinator\.\.\. ok/);
    expect(testTrace).toMatch(/built\n.*deep/s);
    expect(testTrace).toContain('link=app.txt');
    expect(testTrace).toContain('version=2.0.1');
    run.child.kill('SIGQUIT');
    await run.result;
  });

  it('an archive over the server\'s limit (413) fails the job with a clear message; a dependency that cannot be downloaded fails the next one', async () => {
    fx = await createRunFixture({ maxArtifactSize: 1000 });
    fx.writeConfig();
    const big = fx.enqueue({ name: 'big', script: ['mkdir dist && head -c 200000 /dev/urandom > dist/blob'], overrides: { artifacts: [archive(['dist/'])] } });
    const run = fx.start();
    await done(fx, big);
    const text = trace(big);
    // exit_code 1 and gitlab-runner's FATAL line, as its uploader ends (errTooLarge, then exit 1).
    expect(big.final).toMatchObject({ state: 'failed', failureReason: 'script_failure', exitCode: 1 });
    // The uploader's 413 line, berth's failure message (the size streamed before the 413 varies), then the helper's last line.
    const [up] = fx.gl.requestsTo('upload-artifacts').filter((r) => r.path === `/api/v4/jobs/${big.id}/artifacts`);
    const esc = (t: string): string => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const tooLarge = '413 Request Entity Too Large';
    expect(text).toMatch(
      new RegExp(
        `\n${esc(`ERROR: Uploading artifacts as "archive" to coordinator... POST ${fx.gl.url}/api/v4/jobs/${big.id}/artifacts: ${tooLarge} (file size has reached maximum size limit)  correlation_id=${String(up!.headers['x-request-id'])} id=${big.id} status=413 token=${shortToken(big.token)}`)}\n` +
          `${esc(`ERROR: Uploading artifacts as "archive" of job ${big.id} to GitLab failed: the archive dist.zip (`)}(more than )?[0-9.]+ (bytes|KiB|MiB)` +
          `${esc(`) is over GitLab's maximum artifacts size (${tooLarge}: file size has reached maximum size limit). Upload less (narrow artifacts:paths or add artifacts:exclude), or ask a GitLab administrator to raise the instance's (or the project's) maximum artifacts size`)}\n` +
          'FATAL: too large\n',
      ),
    );

    const small = fx.enqueue({ name: 'small', script: ['mkdir dist && echo x > dist/x'], overrides: { artifacts: [archive(['dist/'])] } });
    await done(fx, small);
    expect(small.final).toMatchObject({ state: 'success' });
    fx.gl.fault('download-artifacts', { corrupt: true, times: 5 });
    const next = fx.enqueue({ name: 'next', script: ['echo should not run'], dependencies: [small] });
    await done(fx, next);
    expect(next.final).toMatchObject({ state: 'failed', failureReason: 'script_failure' });
    expect(trace(next)).toContain(`Downloading artifacts for small (${small.id})...`);
    expect(trace(next)).not.toContain('should not run\n');
    run.child.kill('SIGQUIT');
    await run.result;
  });
});

describe('berth run: a dependency archive extracted while it downloads', () => {
  it('the end first by Range (206), entries into the container while object storage holds the body back; an end that differs fails the job', async () => {
    fx = await createRunFixture();
    fx.writeConfig();
    // ~8 MB of random files: over the size from which the end is fetched ahead (4 MiB).
    const build = fx.enqueue({
      name: 'build',
      script: ['mkdir dist && for i in $(seq 1 16); do head -c 500000 /dev/urandom > dist/f$i; done', 'cd dist && sha256sum f* > ../sums && cat ../sums'],
      overrides: { artifacts: [archive(['dist/', 'sums'])] },
    });
    const run = fx.start();
    await done(fx, build);
    expect(build.final, trace(build)).toMatchObject({ state: 'success' });
    expect(build.archive!.size).toBeGreaterThan(8_000_000);

    fx.gl.fault('object-storage', { stallAt: 3 * 1024 * 1024, stallMs: 1500 });
    const test = fx.enqueue({ name: 'test', script: ['cd dist && sha256sum -c ../sums'], dependencies: [build] });
    await done(fx, test);
    const testTrace = trace(test);
    expect(test.final, testTrace).toMatchObject({ state: 'success' });
    for (let i = 1; i <= 16; i++) expect(testTrace).toContain(`f${i}: OK`);
    const ranged = fx.gl.requestsTo('object-storage').filter((r) => r.headers['range'] !== undefined);
    expect(ranged.length).toBeGreaterThanOrEqual(1);
    expect(ranged.every((r) => r.status === 206)).toBe(true);

    fx.gl.fault('ranged-artifacts', { corrupt: true, times: 5 });
    // Held after its first MiB, the body reaches the end only once the end fetched ahead is in (a
    // body that came whole first would be extracted from the file alone, consistently).
    fx.gl.fault('object-storage', { stallAt: 1024 * 1024, stallMs: 2000 });
    const next = fx.enqueue({ name: 'next', script: ['echo should not run'], dependencies: [build] });
    await done(fx, next);
    const nextTrace = trace(next);
    expect(next.final, nextTrace).toMatchObject({ state: 'failed', failureReason: 'script_failure' });
    expect(nextTrace).toMatch(/changed while it was downloaded|corrupt or truncated/);
    expect(nextTrace).not.toContain('should not run\n');
    run.child.kill('SIGQUIT');
    await run.result;
  });
});

describe('berth run: distributed cache (S3)', () => {
  it('saves the cache to S3 and a later job restores it from S3 with the local copy gone', async () => {
    s3 = await startS3TestServer();
    fx = await createRunFixture();
    fx.writeConfig({
      runner: [
        '  [runners.cache]',
        '    Type = "s3"',
        '    Shared = true',
        '    [runners.cache.s3]',
        `      ServerAddress = "${s3.address}"`,
        `      AccessKey = "${s3.accessKey}"`,
        `      SecretKey = "${s3.secretKey}"`,
        `      BucketName = "${s3.bucket}"`,
        '      Insecure = true',
      ].join('\n'),
    });
    const cache = [{ key: 'deps-main', untracked: false, policy: 'pull-push', paths: ['vendor/'], when: 'on_success', fallback_keys: [] }];
    // 6 MB of random bytes: over the size from which a restore is extracted while it downloads.
    const script = [
      'if [ -f vendor/stamp ]; then echo "cache hit $(cat vendor/stamp)"; sha256sum -c vendor/big.sum; else echo "cache miss"; mkdir -p vendor; echo 7 > vendor/stamp; head -c 6000000 /dev/urandom > vendor/big; sha256sum vendor/big > vendor/big.sum; sleep 1; fi',
    ];
    // TRANSFER_METER_FREQUENCY (a job variable, as users set it): gitlab-runner's meter on the cache's transfers.
    const meter = [{ key: 'TRANSFER_METER_FREQUENCY', value: '1s' }];
    const first = fx.enqueue({ name: 'deps', script, overrides: { cache }, variables: meter });
    const run = fx.start();
    await done(fx, first);
    const firstTrace = trace(first);
    expect(first.final, firstTrace).toMatchObject({ state: 'success' });
    expect(firstTrace).toContain('cache miss');
    expect(firstTrace).toContain('Creating cache deps-main...');
    expect(firstTrace).toMatch(/Uploading cache\.zip to http:\/\/127\.0\.0\.1:\d+\/berth-cache\/project\/\d+\/deps-main/);
    expect(firstTrace).toContain('Created cache');
    expect(firstTrace).toMatch(/\rUploading cache 0 B\/\d+\.\d\d MB \(0 B\/s\) {16}/);
    expect(firstTrace).toMatch(/\rUploading cache (\d+\.\d\d MB)\/\1 \([\d.]+ [KMG]?B\/s\) {16}\n/);
    expect(firstTrace).not.toMatch(/X-Amz-|Signature=/);
    expect(s3.requests.some((r) => r.method === 'PUT' && r.path.endsWith('/deps-main'))).toBe(true);

    rmSync(join(fx.dir, 'config', 'cache'), { recursive: true, force: true });
    const second = fx.enqueue({ name: 'deps', script, overrides: { cache }, variables: meter });
    await done(fx, second);
    const secondTrace = trace(second);
    expect(second.final, secondTrace).toMatchObject({ state: 'success' });
    expect(secondTrace).toMatch(/Downloading cache from http:\/\/127\.0\.0\.1:\d+\/berth-cache\/project\/\d+\/deps-main/);
    expect(secondTrace).toContain('Successfully extracted cache');
    expect(secondTrace).toMatch(/\rDownloading cache (\d+\.\d\d MB)\/\1 \([\d.]+ [KMG]?B\/s\) {16}\n/);
    expect(secondTrace).toContain('cache hit 7');
    expect(secondTrace).toContain('vendor/big: OK');
    // Nothing newer than the downloaded cache.zip (its time is the object's Last-Modified): the
    // primary object is HEADed and not uploaded again (cache_archiver.go uploadExistingArchiveIfNeeded).
    expect(secondTrace).toContain('Primary cache already exists remotely, skipping upload');
    expect(secondTrace).not.toContain('Uploading cache.zip');
    expect(s3.requests.filter((r) => r.method === 'PUT' && r.path.endsWith('/deps-main'))).toHaveLength(1);
    // Its end came first by Range (206); once read, the archive was renamed into the cache folder.
    const ranged = s3.requests.filter((r) => r.method === 'GET' && r.headers.range !== undefined);
    expect(ranged.length).toBeGreaterThanOrEqual(1);
    expect(ranged.every((r) => r.status === 206)).toBe(true);
    const cached = readdirSync(join(fx.dir, 'config', 'cache'), { recursive: true }).map(String);
    expect(cached.filter((f) => f.endsWith('deps-main/cache.zip'))).toHaveLength(1);
    expect(cached.filter((f) => /cache\.zip\.|\.tmp/.test(f))).toEqual([]);
    run.child.kill('SIGQUIT');
    await run.result;
  });

  it('restores a cache that a gitlab-runner saved in the shared bucket as tar+zstd (CACHE_COMPRESSION_FORMAT=tarzstd)', async () => {
    s3 = await startS3TestServer();
    fx = await createRunFixture();
    fx.writeConfig({
      runner: ['  [runners.cache]', '    Type = "s3"', '    Shared = true', '    [runners.cache.s3]', `      ServerAddress = "${s3.address}"`, `      AccessKey = "${s3.accessKey}"`, `      SecretKey = "${s3.secretKey}"`, `      BucketName = "${s3.bucket}"`, '      Insecure = true'].join('\n'),
    });
    const cache = [{ key: 'deps-main', untracked: false, policy: 'pull-push', paths: ['vendor/'], when: 'on_success', fallback_keys: [] }];
    const first = fx.enqueue({ name: 'deps', script: ['mkdir -p vendor && echo berth > vendor/stamp'], overrides: { cache } });
    const run = fx.start();
    await done(fx, first);
    expect(first.final, trace(first)).toMatchObject({ state: 'success' });
    const put = s3.requests.find((r) => r.method === 'PUT' && r.path.endsWith('/deps-main'));
    expect(put).toBeDefined();
    // The object as a gitlab-runner with CACHE_COMPRESSION_FORMAT=tarzstd replaces it: a tar in zstd.
    const root = mkdtempSync(join(tmpdir(), 'berth-e2e-tarzstd-'));
    mkdirSync(join(root, 'vendor'));
    writeFileSync(join(root, 'vendor/stamp'), 'gitlab-runner\n');
    const body = execFileSync('zstd', ['-q', '-c'], { input: execFileSync('tar', ['-C', root, '--format=pax', '-cf', '-', 'vendor']) });
    rmSync(root, { recursive: true, force: true });
    const client = new S3Client({ endpoint: `http://${s3.address}`, forcePathStyle: true, region: 'us-east-1', credentials: { accessKeyId: s3.accessKey, secretAccessKey: s3.secretKey } });
    await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: put!.path.replace(`/${s3.bucket}/`, ''), Body: body }));
    client.destroy();
    rmSync(join(fx.dir, 'config', 'cache'), { recursive: true, force: true });

    const second = fx.enqueue({ name: 'deps', script: ['echo "stamp $(cat vendor/stamp)"'], overrides: { cache: [{ ...cache[0], policy: 'pull' }] } });
    await done(fx, second);
    const text = trace(second);
    expect(second.final, text).toMatchObject({ state: 'success' });
    expect(text).toMatch(/Downloading cache from http:\/\/127\.0\.0\.1:\d+\/berth-cache\/project\/\d+\/deps-main/);
    expect(text).toContain('Successfully extracted cache');
    expect(text).toContain('stamp gitlab-runner');
    run.child.kill('SIGQUIT');
    await run.result;
  });

  it('an unreachable S3 is a warning, never a failed job', async () => {
    fx = await createRunFixture();
    fx.writeConfig({
      runner: ['  [runners.cache]', '    Type = "s3"', '    [runners.cache.s3]', '      ServerAddress = "127.0.0.1:9"', '      AccessKey = "a"', '      SecretKey = "s3cr3t-key"', '      BucketName = "b"', '      Insecure = true'].join('\n'),
    });
    const job = fx.enqueue({
      name: 'deps',
      script: ['mkdir -p vendor && echo 1 > vendor/x'],
      overrides: { cache: [{ key: 'k', untracked: false, policy: 'pull-push', paths: ['vendor/'], when: 'on_success', fallback_keys: [] }] },
    });
    const run = fx.start();
    await done(fx, job);
    const text = trace(job);
    expect(job.final, text).toMatchObject({ state: 'success' });
    expect(text).toContain('Failed to extract cache');
    expect(text).not.toContain('s3cr3t-key');
    run.child.kill('SIGQUIT');
    await run.result;
  });
});
