/**
 * The GitLab test server's artifacts endpoints are strict where GitLab and Workhorse are: raw
 * requests (fetch), not berth's client, so that malformed uploads can be sent.
 */
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GitLabTestServer, type TestJob } from '../../test/support/gitlab-test-server.js';
import { handOutJob } from '../../test/support/hand-out-job.js';
import { parseDotenvArtifact } from '../../test/support/gitlab-test-server-dotenv.js';

let gl: GitLabTestServer;

beforeEach(async () => {
  gl = await GitLabTestServer.start();
});

afterEach(async () => {
  await gl.close();
});

const runningJob = (opts: Parameters<GitLabTestServer['enqueueJob']>[0] = {}): Promise<TestJob> => handOutJob(gl, opts);

/** A multipart body by hand: parts of [name, filename | null, content]. */
function multipart(parts: [string, string | null, Buffer | string][]): { body: Buffer; type: string } {
  const boundary = 'XyZ0123456789';
  const chunks: Buffer[] = [];
  for (const [name, filename, content] of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"${filename !== null ? `; filename="${filename}"` : ''}\r\n\r\n`));
    chunks.push(Buffer.isBuffer(content) ? content : Buffer.from(content));
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), type: `multipart/form-data; boundary=${boundary}` };
}

async function post(job: TestJob, form: { body: Buffer; type: string }, query = '', token = job.token): Promise<{ status: number; text: string }> {
  const res = await fetch(`${gl.url}/api/v4/jobs/${job.id}/artifacts${query}`, { method: 'POST', headers: { 'JOB-TOKEN': token, 'Content-Type': form.type }, body: form.body });
  return { status: res.status, text: await res.text() };
}

describe('POST /jobs/:id/artifacts', () => {
  it('stores the one `file` part with the defaults archive/zip and answers 201 "201"', async () => {
    const job = await runningJob();
    // A boundary-like line inside the content must not end the part.
    const content = Buffer.from('PK\u0003\u0004 ... \r\n--XyZ012345678 not the boundary\r\n--');
    const r = await post(job, multipart([['file', 'artifacts.zip', content]]));
    expect(r).toEqual({ status: 201, text: '"201"' });
    expect(job.archive).toMatchObject({ type: 'archive', format: 'zip', filename: 'artifacts.zip', size: content.length, expireIn: '' });
  });

  it('400 without a file, with another field, or with two files', async () => {
    const job = await runningJob();
    expect((await post(job, multipart([]))).status).toBe(400);
    expect((await post(job, multipart([['file', null, 'x']]))).status).toBe(400);
    expect((await post(job, multipart([['file', 'a.zip', 'x'], ['metadata', null, 'y']]))).status).toBe(400);
    expect((await post(job, multipart([['file', 'a.zip', 'x'], ['file', 'b.zip', 'y']]))).status).toBe(400);
    expect((await post(job, { body: Buffer.from('x'), type: 'application/octet-stream' })).status).toBe(400);
    expect(job.artifacts).toEqual([]);
  });

  it('403 with the token of another job', async () => {
    const job = await runningJob();
    const other = await runningJob();
    expect((await post(job, multipart([['file', 'a.zip', 'x']]), '', other.token)).status).toBe(403);
  });

  it('dotenv: variables kept on the job; size, format, key and count limits give GitLab\'s 400 messages', async () => {
    const job = await runningJob();
    const ok = await post(job, multipart([['file', '.env.gz', gzipSync('\uFEFFX="quoted"\nY=a=b\n')]]), '?artifact_format=gzip&artifact_type=dotenv');
    expect(ok.status).toBe(201);
    expect(job.dotenv).toEqual([
      { key: 'X', value: '"quoted"' },
      { key: 'Y', value: 'a=b' },
    ]);
    const bad = async (text: string | Buffer): Promise<string> => {
      const j = await runningJob();
      const r = await post(j, multipart([['file', '.env.gz', Buffer.isBuffer(text) ? text : gzipSync(text)]]), '?artifact_format=gzip&artifact_type=dotenv');
      expect(r.status).toBe(400);
      expect(j.artifacts).toEqual([]);
      return (JSON.parse(r.text) as { message: string }).message;
    };
    expect(await bad('A=1\nnot a pair\n')).toBe('Invalid Format');
    expect(await bad('BAD-KEY=1\n')).toBe("Validation failed: Key can contain only letters, digits and '_'.");
    expect(await bad(Array.from({ length: 151 }, (_, i) => `K${i}=v`).join('\n'))).toBe('Dotenv files cannot have more than 150 variables');
    expect(await bad(gzipSync(Buffer.from(Array.from({ length: 3000 }, (_, i) => `K${i}=${i * 7919}`).join('\n')), { level: 0 }))).toBe(
      'Dotenv Artifact Too Big. Maximum Allowable Size: 5120',
    );
  });
});

describe('GET /jobs/:id/artifacts and object storage', () => {
  it('401 without a known token, 404 without an archive, 404 XML for an unknown object', async () => {
    const dep = await runningJob();
    expect((await fetch(`${gl.url}/api/v4/jobs/${dep.id}/artifacts`)).status).toBe(401);
    expect((await fetch(`${gl.url}/api/v4/jobs/${dep.id}/artifacts`, { headers: { 'JOB-TOKEN': 'glcbt-nope' } })).status).toBe(401);
    expect((await fetch(`${gl.url}/api/v4/jobs/${dep.id}/artifacts`, { headers: { 'JOB-TOKEN': dep.token } })).status).toBe(404);
    const missing = await fetch(`${gl.url}/object-storage/0123abcd`);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('<Code>NoSuchKey</Code>');
  });

  it('a dependent job gets dependencies[] with artifacts_file, the dotenv variables last, and the archive through object storage', async () => {
    const dep = await runningJob({ name: 'build' });
    expect((await post(dep, multipart([['file', 'artifacts.zip', 'zipbytes']]), '?artifact_type=archive&artifact_format=zip')).status).toBe(201);
    expect((await post(dep, multipart([['file', '.env.gz', gzipSync('V=from-dotenv\n')]]), '?artifact_type=dotenv&artifact_format=gzip')).status).toBe(201);
    const job = await runningJob({ dependencies: [dep], variables: [{ key: 'V', value: 'from-yaml' }] });
    expect(job.payload.dependencies).toEqual([{ id: dep.id, name: 'build', token: dep.token, artifacts_file: { filename: 'artifacts.zip', size: 8 } }]);
    const vars = job.payload.variables as { key: string; value: string }[];
    expect(vars.filter((v) => v.key === 'V').map((v) => v.value)).toEqual(['from-yaml', 'from-dotenv']);
    expect(vars[vars.length - 1]).toEqual({ key: 'V', value: 'from-dotenv', public: false, masked: false, raw: false });
    const redirect = await fetch(`${gl.url}/api/v4/jobs/${dep.id}/artifacts?direct_download=true`, { headers: { 'JOB-TOKEN': job.token }, redirect: 'manual' });
    expect(redirect.status).toBe(302);
    const location = redirect.headers.get('location')!;
    expect(location).toMatch(new RegExp(`^${gl.url}/object-storage/[0-9a-f]+$`));
    const object = await fetch(location);
    expect(object.headers.get('content-length')).toBe('8');
    expect(await object.text()).toBe('zipbytes');
    const plain = await fetch(`${gl.url}/api/v4/jobs/${dep.id}/artifacts`, { headers: { 'JOB-TOKEN': job.token } });
    expect(await plain.text()).toBe('zipbytes');
  });
});

describe('parseDotenvArtifact', () => {
  it('splits at the first "=", strips key and value, keeps quotes, and the last duplicate wins in the first place', () => {
    expect(parseDotenvArtifact(gzipSync('A = 1 \nB="x y"\nA=2'))).toEqual({
      ok: true,
      variables: [
        { key: 'A', value: '2' },
        { key: 'B', value: '"x y"' },
      ],
    });
  });

  it('reads every member of a multi-member gzip, and UTF-16LE with its BOM', () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('W=16\r\n', 'utf16le')]);
    expect(parseDotenvArtifact(Buffer.concat([gzipSync('A=1\n'), gzipSync('B=2\n')]))).toEqual({ ok: true, variables: [{ key: 'A', value: '1' }, { key: 'B', value: '2' }] });
    expect(parseDotenvArtifact(gzipSync(utf16))).toEqual({ ok: true, variables: [{ key: 'W', value: '16' }] });
  });

  it('a blank line is Invalid Format; exactly 5120 bytes is too big', () => {
    expect(parseDotenvArtifact(gzipSync('A=1\n\n'))).toEqual({ ok: false, message: 'Invalid Format' });
    expect(parseDotenvArtifact(Buffer.alloc(5120))).toEqual({ ok: false, message: 'Dotenv Artifact Too Big. Maximum Allowable Size: 5120' });
  });
});
