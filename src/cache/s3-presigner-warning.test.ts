import { afterAll, beforeAll, expect, it } from 'vitest';
import { s3CacheSettingsFor, startS3TestServer, type S3TestServer } from '../../test/support/s3-test-server.js';
import { S3Presigner } from './s3-presigner.js';

// Its own file: the SDK warns once per module instance, and vitest gives each file fresh modules.
let s3: S3TestServer;
beforeAll(async () => {
  s3 = await startS3TestServer();
});
afterAll(async () => {
  await s3.stop();
});

it('presigning writes no warning of the AWS SDK to stderr (its Node-version notice is for berth, not a runner log)', async () => {
  const warnings: string[] = [];
  const listen = (w: Error): void => void warnings.push(`${w.name}: ${w.message}`);
  process.on('warning', listen);
  try {
    const presigner = new S3Presigner(s3CacheSettingsFor(s3));
    await presigner.presign('GET', 'project/1/key', 60);
    await new Promise((resolve) => setTimeout(resolve, 50)); // warnings are emitted on the next tick
  } finally {
    process.off('warning', listen);
  }
  expect(warnings.filter((w) => /AWS SDK|NodeVersionSupport/.test(w))).toEqual([]);
});
