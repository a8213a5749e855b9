/**
 * Test support: temporary project directories holding a .gitlab-ci.yml (and other files),
 * compiled with fixed git facts so that results are deterministic.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { InputError } from '../../src/shared/errors.js';
import { compilePipeline } from '../../src/pipeline/compile-pipeline.js';
import type { LocalGitInfo } from '../../src/pipeline/project/local-git.js';
import type { CompileOptions, Pipeline } from '../../src/pipeline/pipeline.js';

export const TEST_SHA = '1234567890abcdef1234567890abcdef12345678';
export const TEST_NOW = new Date('2024-05-06T07:08:09.123Z');

export function fakeGit(root: string, overrides: Partial<LocalGitInfo> = {}): LocalGitInfo {
  return {
    isRepo: false,
    root,
    sha: TEST_SHA,
    ref: 'main',
    refType: 'branch',
    defaultBranch: 'main',
    remoteUrl: 'git@gitlab.example.com:group/sub/project.git',
    projectPath: 'group/sub/project',
    commit: { message: 'Add feature\n\nLonger text.', authorName: 'Ada', authorEmail: 'ada@example.com', timestamp: '2024-05-01T10:00:00+02:00' },
    user: { name: 'Ada Lovelace', email: 'ada@example.com' },
    ...overrides,
  };
}

export class ProjectFactory {
  private readonly dirs: string[] = [];

  /** A new directory with `files` (path → content) written into it. */
  async create(files: Record<string, string>): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'berth-pipeline-'));
    this.dirs.push(dir);
    for (const [path, content] of Object.entries(files)) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), content);
    }
    return dir;
  }

  /** Compiles `yaml` (plus other files) with fixed git facts. */
  async compile(
    yaml: string,
    opts: { files?: Record<string, string>; git?: Partial<LocalGitInfo>; variables?: Record<string, string> } & Omit<Partial<CompileOptions>, 'git' | 'variables'> = {},
  ): Promise<Pipeline> {
    const dir = await this.create({ '.gitlab-ci.yml': yaml, ...opts.files });
    return compilePipeline({
      cwd: dir,
      git: fakeGit(dir, opts.git),
      variables: opts.variables,
      publicVariables: opts.publicVariables,
      pipelineId: 100,
      now: TEST_NOW,
      listFiles: opts.listFiles ?? false,
      includes: opts.includes,
    });
  }

  /** The InputError compiling `yaml` gives; fails when it compiles. */
  async error(yaml: string, opts: Parameters<ProjectFactory['compile']>[1] = {}): Promise<InputError> {
    try {
      await this.compile(yaml, opts);
    } catch (err) {
      if (err instanceof InputError) return err;
      throw err;
    }
    throw new Error('expected an InputError, but the configuration compiled');
  }

  async cleanup(): Promise<void> {
    await Promise.all(this.dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  }
}

/** name → value of a job's variables (last definition wins). */
export function variableMap(pipeline: Pipeline, job: string): Record<string, string> {
  const found = pipeline.jobs.find((j) => j.name === job);
  if (!found) throw new Error(`no job ${job}; jobs: ${pipeline.jobs.map((j) => j.name).join(', ')}`);
  return Object.fromEntries(found.spec.variables.map((v) => [v.key, v.value]));
}

export function jobNames(pipeline: Pipeline): string[] {
  return pipeline.jobs.map((j) => j.name);
}
