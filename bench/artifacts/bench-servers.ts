/**
 * The servers of bench/artifacts, in the parent process only: the GitLab API test server
 * (artifacts endpoints) and the S3 test server (s3rver) for the distributed cache.
 */
import { GitLabTestServer } from '../../test/support/gitlab-test-server.js';
import { startS3TestServer } from '../../test/support/s3-test-server.js';

export interface Servers {
  glUrl: string;
  s3: { address: string; bucket: string; accessKey: string; secretKey: string };
  /** A job GitLab considers running (for uploads), with its id and token. */
  runningJob(): { id: number; token: string };
  close(): Promise<void>;
}

export async function startServers(): Promise<Servers> {
  const gl = await GitLabTestServer.start();
  const s3 = await startS3TestServer();
  return {
    glUrl: gl.url,
    s3: { address: s3.address, bucket: s3.bucket, accessKey: s3.accessKey, secretKey: s3.secretKey },
    runningJob() {
      const job = gl.enqueueJob({ name: 'bench' });
      job.status = 'running';
      return { id: job.id, token: job.token };
    },
    async close() {
      await gl.close();
      await s3.stop();
    },
  };
}

