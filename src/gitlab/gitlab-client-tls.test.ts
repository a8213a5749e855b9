/** `tls-ca-file`: the client trusts a private CA only when it is given that CA. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GitLabTestServer } from '../../test/support/gitlab-test-server.js';
import { GitLabClient } from './gitlab-client.js';
import { defaultRunnerInfo } from './runner-features.js';

let dir: string;
let gl: GitLabTestServer;

/** A CA and a server certificate for 127.0.0.1 signed by it, made with the openssl CLI. */
function makeCertificates(d: string): void {
  const ssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: d, stdio: 'pipe' });
  };
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=berth test CA');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(d, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\n');
  ssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'ext.cnf');
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'berth-tls-'));
  makeCertificates(dir);
  gl = await GitLabTestServer.start({ tls: { key: readFileSync(join(dir, 'server.key')), cert: readFileSync(join(dir, 'server.pem')) } });
});

afterAll(async () => {
  await gl.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('tls-ca-file', () => {
  const info = defaultRunnerInfo('test');

  it('connects over https when the CA file is given', async () => {
    const client = new GitLabClient({ tlsCaFile: join(dir, 'ca.pem') });
    try {
      expect(gl.url).toMatch(/^https:/);
      expect((await client.requestJob({ url: gl.url, token: gl.runnerToken }, { systemId: 's_x', info })).kind).toBe('no-job');
    } finally {
      client.close();
    }
  });

  it('refuses the unknown CA otherwise', async () => {
    const client = new GitLabClient();
    try {
      const r = await client.requestJob({ url: gl.url, token: gl.runnerToken }, { systemId: 's_x', info });
      expect(r).toMatchObject({ kind: 'failed', status: -1, healthy: false });
      expect(r.kind === 'failed' && r.message).toMatch(/certificate/i);
    } finally {
      client.close();
    }
  });

  it('names an unreadable CA file', () => {
    expect(() => new GitLabClient({ tlsCaFile: join(dir, 'missing.pem') })).toThrow(/Cannot read the TLS CA file ".*missing\.pem" \(tls-ca-file\)/);
  });
});
