/**
 * The predefined CI/CD variables GitLab sends with a job of a push pipeline, computed from
 * the local repository. The runner adds CI_PROJECT_DIR, CI_BUILDS_DIR, CI_JOB_STATUS,
 * CI_SERVER and the rest itself, so they are not here.
 */
import { plainVariable, type JobVariable } from '../../job/job-spec.js';
import { projectWebUrl } from './git-remote.js';
import type { LocalGitInfo } from './local-git.js';
import { slugify, stableProjectId } from './slug.js';

export interface ProjectInfo {
  id: number;
  /** `group/sub/project` */
  path: string;
  name: string;
  namespace: string;
  rootNamespace: string;
  url: string;
  serverUrl: string;
  /** The URL jobs would clone from (credentials removed). */
  repositoryUrl: string;
}

export interface PipelineMeta {
  id: number;
  iid: number;
  /** ISO 8601, seconds precision, UTC. */
  createdAt: string;
  /** The config file, relative to the project root. */
  configPath: string;
}

export function describeProject(git: LocalGitInfo): ProjectInfo {
  const path = git.projectPath;
  const segments = path.split('/');
  const url = projectWebUrl(git.remoteUrl, path);
  return {
    id: stableProjectId(path),
    path,
    name: segments[segments.length - 1] ?? path,
    namespace: segments.slice(0, -1).join('/'),
    rootNamespace: segments[0] ?? '',
    url,
    serverUrl: new URL(url).origin,
    repositoryUrl: git.remoteUrl || `${url}.git`,
  };
}

/** Variables of the pipeline as a whole (also what workflow:rules and include:rules see). */
export function pipelineVariables(git: LocalGitInfo, project: ProjectInfo, meta: PipelineMeta): JobVariable[] {
  const server = new URL(project.serverUrl);
  const [title = '', ...rest] = git.commit.message.split('\n');
  const vars: [string, string][] = [
    ['CI', 'true'],
    ['GITLAB_CI', 'true'],
    ['CI_SERVER_NAME', 'GitLab'],
    ['CI_SERVER_URL', project.serverUrl],
    ['CI_SERVER_HOST', server.hostname],
    ['CI_SERVER_FQDN', server.host],
    ['CI_SERVER_PORT', server.port || (server.protocol === 'http:' ? '80' : '443')],
    ['CI_SERVER_PROTOCOL', server.protocol.replace(':', '')],
    ['CI_API_V4_URL', `${project.serverUrl}/api/v4`],
    ['CI_PROJECT_ID', String(project.id)],
    ['CI_PROJECT_NAME', project.name],
    ['CI_PROJECT_TITLE', project.name],
    ['CI_PROJECT_PATH', project.path],
    ['CI_PROJECT_PATH_SLUG', slugify(project.path)],
    ['CI_PROJECT_NAMESPACE', project.namespace],
    ['CI_PROJECT_NAMESPACE_SLUG', slugify(project.namespace)],
    ['CI_PROJECT_NAMESPACE_ID', String(stableProjectId(project.namespace))],
    ['CI_PROJECT_ROOT_NAMESPACE', project.rootNamespace],
    ['CI_PROJECT_URL', project.url],
    ['CI_PROJECT_VISIBILITY', 'private'],
    ['CI_DEFAULT_BRANCH', git.defaultBranch],
    ['CI_CONFIG_PATH', meta.configPath],
    ['CI_PIPELINE_ID', String(meta.id)],
    ['CI_PIPELINE_IID', String(meta.iid)],
    ['CI_PIPELINE_SOURCE', 'push'],
    ['CI_PIPELINE_URL', `${project.url}/-/pipelines/${meta.id}`],
    ['CI_PIPELINE_CREATED_AT', meta.createdAt],
    ['CI_COMMIT_SHA', git.sha],
    ['CI_COMMIT_SHORT_SHA', git.sha.slice(0, 8)],
    ['CI_COMMIT_BEFORE_SHA', '0'.repeat(40)],
    ['CI_COMMIT_REF_NAME', git.ref],
    ['CI_COMMIT_REF_SLUG', slugify(git.ref)],
    ['CI_COMMIT_REF_PROTECTED', 'false'],
    ...((git.refType === 'tag' ? [['CI_COMMIT_TAG', git.ref], ['CI_COMMIT_TAG_MESSAGE', git.tagMessage ?? '']] : [['CI_COMMIT_BRANCH', git.ref]]) as [string, string][]),
    ['CI_COMMIT_MESSAGE', git.commit.message],
    ['CI_COMMIT_TITLE', title],
    ['CI_COMMIT_DESCRIPTION', rest.join('\n').replace(/^\n+/, '')],
    ['CI_COMMIT_AUTHOR', git.commit.authorName ? `${git.commit.authorName} <${git.commit.authorEmail}>` : ''],
    ['CI_COMMIT_TIMESTAMP', git.commit.timestamp],
    ['GITLAB_USER_LOGIN', userLogin(git)],
    ['GITLAB_USER_NAME', git.user.name],
    ['GITLAB_USER_EMAIL', git.user.email],
    ['CI_REPOSITORY_URL', project.repositoryUrl],
    // Where GitLab's own templates pull their images from (`image: $CI_TEMPLATE_REGISTRY_HOST/...`).
    ['CI_TEMPLATE_REGISTRY_HOST', 'registry.gitlab.com'],
  ];
  return vars.map(([k, v]) => plainVariable(k, v));
}

/** The job's own predefined variables. `id` is 0 while rules are evaluated (GitLab has no id then either). */
export function jobVariables(
  project: ProjectInfo,
  job: { id: number; name: string; stage: string; manual: boolean; node?: { index: number; total: number } },
): JobVariable[] {
  const vars: [string, string][] = [];
  if (job.id > 0) {
    vars.push(['CI_JOB_ID', String(job.id)], ['CI_JOB_URL', `${project.url}/-/jobs/${job.id}`]);
  }
  vars.push(['CI_JOB_NAME', job.name], ['CI_JOB_NAME_SLUG', slugify(job.name)], ['CI_JOB_STAGE', job.stage]);
  if (job.manual) vars.push(['CI_JOB_MANUAL', 'true']);
  if (job.node) vars.push(['CI_NODE_INDEX', String(job.node.index)]);
  vars.push(['CI_NODE_TOTAL', String(job.node?.total ?? 1)]);
  return vars.map(([k, v]) => plainVariable(k, v));
}

function userLogin(git: LocalGitInfo): string {
  const local = git.user.email.split('@')[0] ?? '';
  return (local || git.user.name).toLowerCase().replace(/[^a-z0-9._-]+/g, '-');
}
