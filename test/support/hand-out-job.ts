/**
 * handOutJob: queues a job on the GitLab test server and takes it as a runner would (POST
 * /jobs/request with the runner token), so that it is running and its token is valid.
 */
import type { GitLabTestServer, TestJob } from './gitlab-test-server.js';

export async function handOutJob(gl: GitLabTestServer, opts: Parameters<GitLabTestServer['enqueueJob']>[0] = {}): Promise<TestJob> {
  const job = gl.enqueueJob(opts);
  const res = await fetch(`${gl.url}/api/v4/jobs/request`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'RUNNER-TOKEN': gl.runnerToken },
    body: JSON.stringify({ token: gl.runnerToken }),
  });
  await res.arrayBuffer();
  if (res.status !== 201) throw new Error(`the GitLab test server handed out no job: ${res.status}`);
  return job;
}
