/**
 * Queues a job on the GitLab API test server whose sources come from the git test server's
 * `group/project` repository at `sha`, the way GitLab hands them out: the repository URL
 * carries the job's own token, which the git server then accepts.
 */
import type { GitHttpServer } from './git-http-server.js';
import type { EnqueueOptions, GitLabTestServer, TestJob } from './gitlab-test-server.js';

export function enqueueRepoJob(gl: GitLabTestServer, git: GitHttpServer, sha: string, opts: EnqueueOptions = {}): TestJob {
  const job = gl.enqueueJob({
    ...opts,
    overrides: {
      services: [],
      credentials: [],
      // enqueueJob's `dependencies` option fills them from the jobs named.
      ...(opts.dependencies ? {} : { dependencies: [] }),
      artifacts: null,
      cache: [],
      git_info: {
        repo_url: 'placeholder',
        ref: 'main',
        sha,
        before_sha: '0'.repeat(40),
        ref_type: 'branch',
        refspecs: ['+refs/heads/main:refs/remotes/origin/main'],
        depth: 20,
      },
      ...opts.overrides,
    },
  });
  const info = job.payload.git_info as Record<string, unknown>;
  if (info.repo_url === 'placeholder') info.repo_url = `${git.url.replace('http://', `http://gitlab-ci-token:${job.token}@`)}/group/project.git`;
  git.tokens.add(job.token);
  return job;
}
