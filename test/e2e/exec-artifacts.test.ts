/**
 * `berth exec` with artifacts, dependencies, dotenv and JUnit reports, and cache: the built CLI
 * against the real engine. Files travel through the Engine's archive API only.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DockerodeEngine } from '../../src/engine/dockerode-engine.js';
import { stripAnsi } from '../../src/shared/ansi.js';
import { runBerth } from '../support/berth-cli.js';
import { makeRepo, type FixtureRepo } from '../support/fixture-repo.js';
import { findLeftovers, NO_LEFTOVERS } from '../support/leftovers.js';

const engine = new DockerodeEngine();
const repos: FixtureRepo[] = [];
afterAll(() => repos.forEach((r) => r.remove()));

const PIPELINE = `
stages: [build, test, deploy]
default:
  image: berth-test/bash:latest
build:
  stage: build
  script:
    - mkdir -p dist/sub && echo built > dist/app.txt && echo deep > dist/sub/x.txt && ln -s app.txt dist/link
    - echo tmp > dist/tmp.log
    - echo "VERSION=1.2.3" > build.env
    - echo 'WHO=$CI_JOB_NAME' >> build.env
  artifacts:
    name: "dist-$CI_JOB_NAME"
    paths: [dist/, "../outside", "nothing/*.bin"]
    exclude: ["dist/*.log"]
    reports:
      dotenv: build.env
unit:
  stage: test
  script:
    - cat dist/app.txt dist/sub/x.txt
    - echo "link=$(readlink dist/link)"
    - test ! -e dist/tmp.log && echo "log excluded"
    - echo "version=$VERSION"
    - echo "who=$WHO"
    - printf '<testsuite name="s" tests="2"><testcase classname="c" name="ok"/><testcase classname="c" name="bad"><failure message="boom">trace</failure></testcase></testsuite>' > junit.xml
  artifacts:
    reports:
      junit: junit.xml
isolated:
  stage: test
  dependencies: []
  script:
    - test ! -e dist/app.txt && echo "no dist here"
    - echo "isolated version=\${VERSION:-unset}"
deploy:
  stage: deploy
  needs: [{job: build, artifacts: false}]
  script:
    - test ! -e dist/app.txt && echo "needs without artifacts"
    - echo "deploy version=\${VERSION:-unset}"
`;

describe('berth exec: artifacts, dependencies and reports', () => {
  it('passes dist/ from build to the jobs that depend on it, dotenv variables with it, and sums up the JUnit report', async () => {
    const repo = makeRepo({ '.gitlab-ci.yml': PIPELINE });
    repos.push(repo);
    const res = await runBerth(['exec', '--cwd', repo.dir, '--report', join(repo.dir, 'report.json')]);
    const out = stripAnsi(res.stdout);
    expect(res.code, out + res.stderr).toBe(0);
    // build: the archive and what gitlab-runner's selection says about each path.
    expect(out).toMatch(/dist\/: found 5 matching artifact files and directories/);
    expect(out).toContain('processPath: artifact path is not a subpath of project directory: ../outside');
    expect(out).toMatch(/nothing\/\*\.bin: no matching files/);
    expect(out).toContain('Uploading artifacts for successful job');
    // unit: received dist/ (links as links, excluded files left out) and the dotenv variable.
    expect(out).toContain('Downloading artifacts for build');
    expect(out).toMatch(/built\n.*deep/s);
    expect(out).toContain('link=app.txt');
    expect(out).toContain('log excluded');
    expect(out).toContain('version=1.2.3');
    // GitLab stores dotenv variables as not raw: $CI_JOB_NAME is expanded in the receiving job.
    expect(out).toContain('who=unit');
    // dependencies: [] and needs:artifacts:false receive neither files nor dotenv variables.
    expect(out).toContain('no dist here');
    expect(out).toContain('isolated version=unset');
    expect(out).toContain('needs without artifacts');
    expect(out).toContain('deploy version=unset');
    // JUnit: summed up at the end and in the report.
    expect(out).toMatch(/unit: 2 tests, 1 failed/);
    const report = JSON.parse(readFileSync(join(repo.dir, 'report.json'), 'utf8')) as { tests: { job: string; tests: number; failures: number }[] };
    expect(report.tests).toEqual([expect.objectContaining({ job: 'unit', tests: 2, failures: 1 })]);
    // The store: build's archive and dotenv report under .berth/artifacts/.
    const dirs = readdirSync(join(repo.dir, '.berth/artifacts'));
    const buildDir = dirs.find((d) => d.startsWith('build-'));
    expect(buildDir).toBeDefined();
    expect(existsSync(join(repo.dir, '.berth/artifacts', buildDir!, 'archive.zip'))).toBe(true);
    expect(existsSync(join(repo.dir, '.berth/artifacts', buildDir!, 'dotenv.gz'))).toBe(true);
    expect(await findLeftovers(engine, `berth.exec.pid=${res.pid}`)).toEqual(NO_LEFTOVERS);
  });

  it('a report over 1 MiB (streamed out of the container, piped through gzip) is stored whole and summed up', async () => {
    const repo = makeRepo({
      '.gitlab-ci.yml': `
big:
  image: berth-test/bash:latest
  script:
    - "{ echo '<testsuite name=\\"s\\" tests=\\"60000\\">'; for i in $(seq 1 60000); do echo \\"<testcase classname='c' name='t$i'/>\\"; done; echo '</testsuite>'; } > junit.xml"
    - wc -c junit.xml
  artifacts:
    reports:
      junit: junit.xml
`,
    });
    repos.push(repo);
    const res = await runBerth(['exec', '--cwd', repo.dir]);
    const out = stripAnsi(res.stdout);
    expect(res.code, out + res.stderr).toBe(0);
    const size = Number(/(\d+) junit\.xml/.exec(out)?.[1]);
    expect(size).toBeGreaterThan(2 * 1024 * 1024);
    expect(out).toMatch(/big: 60000 tests, 0 failed/);
    const jobDir = readdirSync(join(repo.dir, '.berth/artifacts')).find((d) => d.startsWith('big-'))!;
    const xml = gunzipSync(readFileSync(join(repo.dir, '.berth/artifacts', jobDir, 'junit.gz')));
    expect(xml.length).toBe(size);
    expect(xml.subarray(-13).toString()).toBe('</testsuite>\n');
    expect(await findLeftovers(engine, `berth.exec.pid=${res.pid}`)).toEqual(NO_LEFTOVERS);
  });

  it('a job run alone gets the artifacts its dependencies stored in an earlier run', async () => {
    const repo = makeRepo({ '.gitlab-ci.yml': PIPELINE });
    repos.push(repo);
    expect((await runBerth(['exec', '--cwd', repo.dir, 'build'])).code).toBe(0);
    const res = await runBerth(['exec', '--cwd', repo.dir, 'unit']);
    const out = stripAnsi(res.stdout);
    expect(res.code, out).toBe(0);
    expect(out).toContain('Using the artifacts of "build" from an earlier berth exec run');
    expect(out).toContain('version=1.2.3');
  });

  it('a job run alone whose dependency never ran says that it receives nothing from it', async () => {
    const repo = makeRepo({ '.gitlab-ci.yml': PIPELINE });
    repos.push(repo);
    const res = await runBerth(['exec', '--cwd', repo.dir, 'isolated', 'deploy']);
    expect(res.code, res.stdout).toBe(0);
    // isolated has dependencies: [] and deploy needs build with artifacts: false: nothing to warn about
    expect(res.stdout).not.toContain('No artifacts of');
    const alone = await runBerth(['exec', '--cwd', repo.dir, 'unit']);
    expect(stripAnsi(alone.stdout)).toContain('unit | WARNING: No artifacts of "build": it did not run in this berth exec and no earlier run stored any: run it first, or name it too');
  });

  it('a dependency of this run that did not run gives nothing, not what an earlier run stored', async () => {
    const repo = makeRepo({
      '.gitlab-ci.yml': `
stages: [build, gen, report]
default:
  image: berth-test/bash:latest
build:
  stage: build
  script: ['test -z "$FAIL_BUILD"']
gen:
  stage: gen
  script: [mkdir -p rep, echo fresh > rep/r, echo GEN=from-gen > gen.env]
  artifacts:
    paths: [rep/]
    reports:
      dotenv: gen.env
report:
  stage: report
  when: always
  script: ['cat rep/r 2>/dev/null || echo "no rep"', 'echo "gen=\${GEN:-unset}"']
`,
    });
    repos.push(repo);
    const first = stripAnsi((await runBerth(['exec', '--cwd', repo.dir])).stdout);
    expect(first).toContain('report | fresh');
    expect(first).toContain('report | gen=from-gen');
    const res = await runBerth(['exec', '--cwd', repo.dir, '--variable', 'FAIL_BUILD=1']);
    const out = stripAnsi(res.stdout);
    expect(res.code, out).toBe(1);
    expect(out).toMatch(/SKIP +gen/);
    expect(out).toContain('report | no rep');
    expect(out).toContain('report | gen=unset');
    expect(out).not.toContain('Downloading artifacts for gen');
    expect(out).not.toContain('from an earlier berth exec run');
    expect(await findLeftovers(engine, `berth.exec.pid=${res.pid}`)).toEqual(NO_LEFTOVERS);
  });

  it('artifacts extracted under a folder link of the repository land where the link points inside the container, never on the host', async () => {
    // The engine resolves a link among an entry's parents inside the container (it unpacks
    // chrooted); berth must never resolve it on its own host.
    const name = `berth-e2e-${randomBytes(6).toString('hex')}.txt`;
    const repo = makeRepo({
      '.gitlab-ci.yml': `
stages: [build, use]
default:
  image: berth-test/bash:latest
build:
  stage: build
  script: ['rm out && mkdir out && echo made > out/${name} && echo plain > top.txt']
  artifacts:
    paths: [out/${name}, top.txt]
use:
  stage: use
  script:
    - 'test -L out && echo "out is still a link"'
    - 'echo "through the link: $(cat /tmp/${name})"'
    - 'echo "top: $(cat top.txt)"'
`,
    });
    repos.push(repo);
    symlinkSync('/tmp', join(repo.dir, 'out'));
    execFileSync('git', ['add', 'out'], { cwd: repo.dir });
    execFileSync('git', ['commit', '-q', '-m', 'link'], { cwd: repo.dir });
    const res = await runBerth(['exec', '--cwd', repo.dir]);
    const out = stripAnsi(res.stdout);
    expect(res.code, out).toBe(0);
    expect(out).toMatch(/use +\| out is still a link/);
    expect(out).toMatch(/use +\| through the link: made/);
    expect(out).toMatch(/use +\| top: plain/);
    expect(existsSync(join('/tmp', name))).toBe(false);
    expect(await findLeftovers(engine, `berth.exec.pid=${res.pid}`)).toEqual(NO_LEFTOVERS);
  });

  it('an invalid dotenv report fails the job as GitLab refuses the upload', async () => {
    const repo = makeRepo({
      '.gitlab-ci.yml': `
bad:
  image: berth-test/bash:latest
  script: [printf 'GOOD=1\\nnot a variable\\n' > build.env]
  artifacts:
    reports:
      dotenv: build.env
`,
    });
    repos.push(repo);
    const res = await runBerth(['exec', '--cwd', repo.dir]);
    const out = stripAnsi(res.stdout);
    expect(res.code).toBe(1);
    expect(out).toContain('Invalid Format');
  });
});

describe('berth exec: cache', () => {
  it('restores on the second run what the first run saved, by key, with the policy honoured', async () => {
    const repo = makeRepo({
      '.gitlab-ci.yml': `
deps:
  image: berth-test/bash:latest
  cache:
    key: deps-$CI_COMMIT_REF_SLUG
    paths: [vendor/]
  script:
    - if [ -f vendor/stamp ]; then echo "cache hit $(cat vendor/stamp)"; else echo "cache miss"; mkdir -p vendor; echo 42 > vendor/stamp; sleep 1; fi
    - if [ -n "$BUMP" ]; then echo "$BUMP" > vendor/stamp; fi
readonly:
  image: berth-test/bash:latest
  cache:
    key: deps-$CI_COMMIT_REF_SLUG
    paths: [vendor/]
    policy: pull
  script: [echo "readonly sees $(cat vendor/stamp 2>/dev/null || echo nothing)"]
  needs: [deps]
`,
    });
    repos.push(repo);
    const firstRun = await runBerth(['exec', '--cwd', repo.dir]);
    const first = stripAnsi(firstRun.stdout);
    expect(await findLeftovers(engine, `berth.exec.pid=${firstRun.pid}`)).toEqual(NO_LEFTOVERS);
    expect(first).toContain('Checking cache for deps-main...');
    expect(first).toContain('cache miss');
    expect(first).toContain('Creating cache deps-main...');
    expect(first).toContain('Created cache');
    expect(first).toContain('Not uploading cache deps-main due to policy');
    expect(first).toContain('readonly sees 42');
    const zip = join(repo.dir, '.berth/cache/deps-main/cache.zip');
    const saved = statSync(zip).mtimeMs;
    const second = stripAnsi((await runBerth(['exec', '--cwd', repo.dir, 'deps'])).stdout);
    expect(second).toContain('Successfully extracted cache');
    expect(second).toContain('cache hit 42');
    // Nothing newer than cache.zip (the restored files keep their times): gitlab-runner's
    // cache-archiver keeps the stored archive (berth exec has no shared cache to upload to).
    expect(second).toMatch(
      /Creating cache deps-main\.\.\.\n.*vendor\/: found 2 matching artifact files and directories\n.*Primary cache does not exist remotely, uploading existing archive\n.*No URL provided, cache will not be uploaded to shared cache server\. Cache will be stored only locally\.\n.*Created cache\n/,
    );
    expect(statSync(zip).mtimeMs).toBe(saved);
    // A file the job changes right after the restore: archived again (the Engine's whole seconds never hide it).
    const third = stripAnsi((await runBerth(['exec', '--cwd', repo.dir, '--variable', 'BUMP=43', 'deps'])).stdout);
    expect(third).toContain('cache hit 42');
    expect(third).not.toContain('Primary cache');
    expect(statSync(zip).mtimeMs).toBeGreaterThan(saved);
    const fourth = stripAnsi((await runBerth(['exec', '--cwd', repo.dir, 'deps'])).stdout);
    expect(fourth).toContain('cache hit 43');
  });
});

describe('berth exec: compression of the local store', () => {
  it('keeps artifacts and caches uncompressed unless ARTIFACT_COMPRESSION_LEVEL / CACHE_COMPRESSION_LEVEL ask for a level', async () => {
    const repo = makeRepo({
      '.gitlab-ci.yml': `
make:
  image: berth-test/bash:latest
  script: ['mkdir -p out && head -c 300000 /dev/zero > out/zeros.bin']
  artifacts:
    paths: [out/]
  cache:
    key: zeros
    paths: [out/]
`,
    });
    repos.push(repo);
    const sizes = (): { artifacts: number; cache: number } => {
      const jobDir = readdirSync(join(repo.dir, '.berth/artifacts')).find((d) => d.startsWith('make-'))!;
      return {
        artifacts: statSync(join(repo.dir, '.berth/artifacts', jobDir, 'archive.zip')).size,
        cache: statSync(join(repo.dir, '.berth/cache/zeros/cache.zip')).size,
      };
    };
    const plain = await runBerth(['exec', '--cwd', repo.dir]);
    expect(plain.code, plain.stdout).toBe(0);
    const stored = sizes();
    expect(stored.artifacts).toBeGreaterThan(300_000);
    expect(stored.cache).toBeGreaterThan(300_000);
    const asked = await runBerth(['exec', '--cwd', repo.dir, '--variable', 'ARTIFACT_COMPRESSION_LEVEL=default', '--variable', 'CACHE_COMPRESSION_LEVEL=fast']);
    expect(asked.code, asked.stdout).toBe(0);
    const compressed = sizes();
    expect(compressed.artifacts).toBeLessThan(10_000);
    expect(compressed.cache).toBeLessThan(10_000);
  });
});

describe('berth exec: a tar+zstd cache in the repository', () => {
  it('is not decoded (a repository can plant any bytes there; berth decodes Zstandard only from a runner\'s own cache): a warning, and the job runs', async () => {
    const repo = makeRepo({
      '.gitlab-ci.yml': `
deps:
  image: berth-test/bash:latest
  cache: { key: tz, paths: [vendor/], policy: pull }
  script:
    - test ! -e vendor/stamp && echo "nothing restored"
`,
    });
    repos.push(repo);
    const root = mkdtempSync(join(tmpdir(), 'berth-e2e-tarzstd-'));
    mkdirSync(join(root, 'vendor'));
    writeFileSync(join(root, 'vendor/stamp'), 'planted');
    const tar = execFileSync('tar', ['-C', root, '--format=pax', '-cf', '-', 'vendor']);
    rmSync(root, { recursive: true, force: true });
    mkdirSync(join(repo.dir, '.berth/cache/tz'), { recursive: true });
    writeFileSync(join(repo.dir, '.berth/cache/tz/cache.zip'), execFileSync('zstd', ['-q', '-c'], { input: tar }));

    const res = await runBerth(['exec', '--cwd', repo.dir]);
    const out = stripAnsi(res.stdout);
    expect(await findLeftovers(engine, `berth.exec.pid=${res.pid}`)).toEqual(NO_LEFTOVERS);
    expect(res.code, out).toBe(0);
    expect(out).toMatch(/the cache archive .*tz\/cache\.zip is a tar\+zstd archive, which berth reads only as a cache from a runner's own cache folder or bucket/);
    expect(out).toContain('Failed to extract cache');
    expect(out).toContain('nothing restored');
  });
});

describe('berth exec: RUNNER_GENERATE_ARTIFACTS_METADATA', () => {
  it('stores the zip with <name>-metadata.json last: the sha256 of each regular file as read out of the container, the variables by name only', async () => {
    const repo = makeRepo({
      '.gitlab-ci.yml': `
make:
  image: berth-test/bash:latest
  variables:
    RUNNER_GENERATE_ARTIFACTS_METADATA: "true"
  script:
    - mkdir -p out/sub && printf alpha > out/a.txt && head -c 2500000 /dev/urandom > out/sub/big.bin && ln -s a.txt out/link
    - cd out && sha256sum a.txt sub/big.bin && echo "job id=$CI_JOB_ID"
  artifacts:
    name: out-$CI_JOB_NAME
    paths: [out/]
`,
    });
    repos.push(repo);
    const res = await runBerth(['exec', '--cwd', repo.dir, '--variable', 'SECRET_THING=s3cr3t-value-not-in-metadata']);
    const out = stripAnsi(res.stdout);
    expect(await findLeftovers(engine, `berth.exec.pid=${res.pid}`)).toEqual(NO_LEFTOVERS);
    expect(res.code, out + res.stderr).toBe(0);
    expect(out).toMatch(/make \| Generating artifacts statement\nmake \| WARNING: Unknown SLSA provenance version unknown, defaulting to v1\n/);
    // the digests sha256sum printed in the container
    const inContainer = Object.fromEntries([...out.matchAll(/^make \| ([0-9a-f]{64}) {2}(\S+)$/gm)].map((m) => [`out/${m[2]}`, m[1]]));
    expect(Object.keys(inContainer)).toEqual(['out/a.txt', 'out/sub/big.bin']);
    const jobDir = readdirSync(join(repo.dir, '.berth/artifacts')).find((d) => d.startsWith('make-'))!;
    const zip = join(repo.dir, '.berth/artifacts', jobDir, 'archive.zip');
    const listing = JSON.parse(
      execFileSync(
        'python3',
        [
          '-c',
          `
import hashlib, json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
print(json.dumps([dict(name=i.filename, sha256=hashlib.sha256(z.read(i)).hexdigest(), text=z.read(i).decode() if i.filename.endswith('.json') else '') for i in z.infolist()]))
`,
          zip,
        ],
        { encoding: 'utf8' },
      ),
    ) as { name: string; sha256: string; text: string }[];
    expect(listing.map((e) => e.name)).toEqual(['out/', 'out/a.txt', 'out/link', 'out/sub/', 'out/sub/big.bin', 'out-make-metadata.json']);
    const statement = JSON.parse(listing.at(-1)!.text);
    expect(statement.subject).toEqual(Object.entries(inContainer).map(([name, sha256]) => ({ name, digest: { sha256 } })));
    for (const s of statement.subject) expect(listing.find((e) => e.name === s.name)!.sha256).toBe(s.digest.sha256);
    const jobId = /job id=(\d+)/.exec(out)![1];
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo.dir, encoding: 'utf8' }).trim();
    expect(statement.predicate.buildDefinition.internalParameters).toEqual({ architecture: expect.any(String), executor: 'docker', job: jobId, name: 'berth-exec' });
    expect(statement.predicate.buildDefinition.resolvedDependencies).toEqual([{ uri: 'git@gitlab.example.com:group/demo-project', digest: { sha256: head } }]);
    expect(statement.predicate.buildDefinition.externalParameters).toMatchObject({ SECRET_THING: '', RUNNER_GENERATE_ARTIFACTS_METADATA: '', entryPoint: 'make' });
    expect(statement.predicate.runDetails.metadata.invocationId).toBe(jobId);
    expect(listing.at(-1)!.text).not.toContain('s3cr3t-value-not-in-metadata');
  });
});
