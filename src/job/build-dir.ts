/**
 * Where a job's sources live inside the containers (gitlab-runner common/build.go):
 * CI_PROJECT_DIR = <builds_dir>/<namespace>/<project>, from the project path or the repository
 * URL; `<builds_dir>/project-<id>` when neither can be read; `-empty` after it for
 * GIT_STRATEGY=empty (ProjectUniqueDir).
 */
import { posix } from 'node:path';
import type { JobSpec } from './job-spec.js';
import { variableValue } from './variables.js';

export const DEFAULT_BUILDS_DIR = '/builds';

/** The project path (`group/sub/project`) from the job, or null. */
export function projectPath(job: JobSpec): string | null {
  const fromInfo = sanitizePath(job.jobInfo.projectFullPath);
  if (fromInfo) return fromInfo;
  return pathFromRepoUrl(job.gitInfo.repoUrl);
}

export function projectDir(job: JobSpec, buildsDir = DEFAULT_BUILDS_DIR): string {
  const path = projectPath(job) ?? `project-${job.jobInfo.projectId}`;
  return posix.join(buildsDir || DEFAULT_BUILDS_DIR, path + projectDirSuffix(job));
}

/** gitlab-runner's ProjectUniqueDir: a GIT_STRATEGY=empty job gets folders of its own (build and cache). */
export function projectDirSuffix(job: JobSpec): string {
  return variableValue(job.variables, 'GIT_STRATEGY') === 'empty' ? '-empty' : '';
}

/** `<project dir>.tmp` (RUNNER_TEMP_PROJECT_DIR): file variables and other runner-owned files. */
export function projectTempDir(projectDir: string): string {
  return `${projectDir}.tmp`;
}

/** `https://host/ns/proj.git` or `git@host:ns/proj.git` → `ns/proj`. */
export function pathFromRepoUrl(url: string): string | null {
  if (!url) return null;
  let path: string;
  const scp = /^[^/@]+@[^:/]+:(.+)$/.exec(url);
  if (scp) {
    path = scp[1]!;
  } else {
    try {
      path = new URL(url).pathname;
    } catch {
      return null;
    }
  }
  return sanitizePath(path.replace(/\.git\/?$/, ''));
}

/** Keeps only safe path segments; never lets `..` or absolute parts escape builds_dir. */
function sanitizePath(path: string): string | null {
  const segments = path
    .split('/')
    .filter((s) => s !== '' && s !== '.' && s !== '..')
    .map((s) => s.replace(/[^A-Za-z0-9._-]/g, '-'));
  return segments.length ? segments.join('/') : null;
}
