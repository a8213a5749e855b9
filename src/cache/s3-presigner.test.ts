import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3CacheSettings as s3Settings, s3CacheSettingsFor, startS3TestServer, type S3TestServer } from '../../test/support/s3-test-server.js';
import type { S3CacheSettings } from './cache-settings.js';
import { authType, clientConfig, S3Presigner } from './s3-presigner.js';

let s3: S3TestServer;
beforeAll(async () => {
  s3 = await startS3TestServer();
});
afterAll(async () => {
  await s3.stop();
});

const serverSettings = (over: Partial<S3CacheSettings> = {}) => s3CacheSettingsFor(s3, over);

describe('S3Presigner against s3rver', () => {
  it('presigned PUT (with the signed cachekey header), HEAD and GET work; the object keeps its metadata', async () => {
    const presigner = new S3Presigner(serverSettings());
    const name = 'project/42/default-protected';
    const put = await presigner.presign('PUT', name, 3600, 'default-protected');
    const url = new URL(put.url);
    expect(`${url.host}${url.pathname}`).toBe(`${s3.address}/${s3.bucket}/project/42/default-protected`);
    expect(url.protocol).toBe('http:');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('3600');
    expect(url.searchParams.get('X-Amz-SignedHeaders')?.split(';')).toContain('x-amz-meta-cachekey');
    expect(put.headers).toEqual({ 'x-amz-meta-cachekey': 'default-protected' });

    const body = Buffer.from('zip bytes');
    const res = await fetch(put.url, { method: 'PUT', body, headers: { ...put.headers, 'Content-Type': 'application/octet-stream' } });
    expect(res.status).toBe(200);

    const head = await fetch((await presigner.presign('HEAD', name, 60)).url, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('x-amz-meta-cachekey')).toBe('default-protected');
    expect(head.headers.get('last-modified')).toBeTruthy();
    const get = await fetch((await presigner.presign('GET', name, 60)).url);
    expect(Buffer.from(await get.arrayBuffer())).toEqual(body);
  });

  it('a PUT without the signed header, or signed with a wrong secret, is refused with 403', async () => {
    const put = await new S3Presigner(serverSettings()).presign('PUT', 'x', 60, 'k');
    expect((await fetch(put.url, { method: 'PUT', body: 'a' })).status).toBe(403);
    const wrong = await new S3Presigner(serverSettings({ secretKey: 'not-the-secret' })).presign('GET', 'x', 60);
    const res = await fetch(wrong.url);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
  });

  it('signs server-side encryption headers into the PUT', async () => {
    const put = await new S3Presigner(serverSettings({ serverSideEncryption: 'kms', serverSideEncryptionKeyId: 'alias/cache' })).presign('PUT', 'x', 60, 'k');
    expect(put.headers).toEqual({
      'x-amz-meta-cachekey': 'k',
      'x-amz-server-side-encryption': 'aws:kms',
      'x-amz-server-side-encryption-aws-kms-key-id': 'alias/cache',
    });
    expect(new URL(put.url).searchParams.get('X-Amz-SignedHeaders')?.split(';')).toEqual(
      expect.arrayContaining(['x-amz-server-side-encryption', 'x-amz-server-side-encryption-aws-kms-key-id']),
    );
  });

  it('caps the expiry at S3\'s 7 days', async () => {
    const get = await new S3Presigner(serverSettings()).presign('GET', 'x', 30 * 24 * 3600);
    expect(new URL(get.url).searchParams.get('X-Amz-Expires')).toBe('604800');
  });
});

describe('clientConfig', () => {
  it('uses https, virtual-host style and us-east-1 for AWS; path style for other servers', async () => {
    const aws = clientConfig(s3Settings({ serverAddress: 's3.amazonaws.com', accessKey: 'a', secretKey: 's' }));
    expect(aws).toMatchObject({ endpoint: 'https://s3.amazonaws.com', forcePathStyle: false, region: 'us-east-1' });
    expect(clientConfig(s3Settings({ serverAddress: 'minio:9000', insecure: true }))).toMatchObject({ endpoint: 'http://minio:9000', forcePathStyle: true });
    expect(clientConfig(s3Settings({ serverAddress: 'minio:9000', pathStyle: false })).forcePathStyle).toBe(false);
    expect(clientConfig(s3Settings({ bucketLocation: 'eu-west-1' }))).toMatchObject({ region: 'eu-west-1', useDualstackEndpoint: true });
    const url = await new S3Presigner(s3Settings({ bucketName: 'cache-bucket', bucketLocation: 'eu-west-1', authenticationType: 'access-key', accessKey: 'a', secretKey: 's', dualStack: false })).presign('GET', 'runner/abc/project/1/k', 60);
    expect(new URL(url.url).host).toBe('cache-bucket.s3.eu-west-1.amazonaws.com');
  });

  it('access keys only with address and both keys unless AuthenticationType says so (cacheconfig.go AuthType)', () => {
    expect(authType(s3Settings({ serverAddress: 'h', accessKey: 'a', secretKey: 's' }))).toBe('access-key');
    expect(authType(s3Settings({ accessKey: 'a', secretKey: 's' }))).toBe('iam');
    expect(authType(s3Settings({ accessKey: 'a', secretKey: 's', authenticationType: 'Access-Key' }))).toBe('access-key');
    expect(clientConfig(s3Settings({ authenticationType: 'iam', accessKey: 'a', secretKey: 's' })).credentials).toBeUndefined();
  });
});
