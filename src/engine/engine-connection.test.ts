import { mkdtempSync, writeFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { connectionOptions, resolveEngineConnection } from './engine-connection.js';
import { EngineError } from './engine-error.js';

function certDir(files = ['ca.pem', 'cert.pem', 'key.pem']): string {
  const dir = mkdtempSync(join(tmpdir(), 'berth-certs-'));
  for (const f of files) writeFileSync(join(dir, f), `-----BEGIN ${f}-----\n`);
  return dir;
}

describe('resolveEngineConnection', () => {
  it('takes DOCKER_HOST, DOCKER_TLS_VERIFY (any non-empty value) and DOCKER_CERT_PATH when nothing is given', () => {
    expect(resolveEngineConnection({}, { DOCKER_HOST: 'tcp://10.0.0.1:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/certs' })).toEqual({
      host: 'tcp://10.0.0.1:2376',
      tls: true,
      tlsVerify: true,
      tlsCertPath: '/certs',
    });
    expect(resolveEngineConnection({}, {})).toEqual({ host: 'unix:///var/run/docker.sock', tls: false, tlsVerify: false, tlsCertPath: '' });
  });

  it('explicit settings win over the variables; tls_cert_path "" means no folder', () => {
    const env = { DOCKER_HOST: 'tcp://a:1', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: '/env-certs' };
    expect(resolveEngineConnection({ host: 'tcp://b:2376', tlsVerify: false, tlsCertPath: '' }, env)).toEqual({
      host: 'tcp://b:2376',
      tls: false,
      tlsVerify: false,
      tlsCertPath: '',
    });
    // A certificate folder alone: TLS without verification, as Docker's client.
    expect(resolveEngineConnection({ host: 'tcp://b:2376', tlsVerify: false, tlsCertPath: '/c' }, env)).toMatchObject({ tls: true, tlsVerify: false });
  });
});

describe('connectionOptions', () => {
  it('DOCKER_TLS_VERIFY with DOCKER_CERT_PATH: https with the CA, client certificate and key', () => {
    const dir = certDir();
    const opts = connectionOptions({}, { DOCKER_HOST: 'tcp://10.0.0.1:2376', DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: dir });
    expect(opts).toMatchObject({ host: '10.0.0.1', port: '2376', protocol: 'https' });
    expect(String(opts.ca)).toBe('-----BEGIN ca.pem-----\n');
    expect(String(opts.cert)).toBe('-----BEGIN cert.pem-----\n');
    expect((opts.key as Buffer).toString()).toBe('-----BEGIN key.pem-----\n');
    expect((opts as { agent?: Agent }).agent?.options.rejectUnauthorized).toBe(true);
  });

  it('plain tcp without TLS settings stays http; a unix socket stays a socket', () => {
    expect(connectionOptions({ host: 'tcp://127.0.0.1:2375' }, {})).toMatchObject({ host: '127.0.0.1', port: '2375', protocol: 'http' });
    expect(connectionOptions({}, { DOCKER_HOST: 'unix:///run/x.sock' })).toEqual({ socketPath: '/run/x.sock' });
  });

  it('a certificate folder without verification: TLS through an agent that does not check the engine', () => {
    const dir = certDir(['cert.pem', 'key.pem']);
    const opts = connectionOptions({ host: 'tcp://10.0.0.1:2376', tlsVerify: false, tlsCertPath: dir }, {});
    expect(opts.protocol).toBe('https');
    expect(opts.ca).toBeUndefined();
    const agent = (opts as { agent?: Agent }).agent;
    expect(agent).toBeInstanceOf(Agent);
    expect(agent?.options.rejectUnauthorized).toBe(false);
  });

  it('a missing file names the endpoint and the path, never a file content', () => {
    const dir = certDir(['ca.pem', 'cert.pem']);
    let err: unknown;
    try {
      connectionOptions({ host: 'tcp://user:secret@10.0.0.1:2376', tlsVerify: true, tlsCertPath: dir }, {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(EngineError);
    const e = err as EngineError;
    expect(e.unreachable).toBe(true);
    expect(e.message).toBe(
      `Cannot use the Docker engine at tcp://10.0.0.1:2376: cannot read the TLS client key ${join(dir, 'key.pem')} (ENOENT); ` +
        'point DOCKER_CERT_PATH, --docker-cert-path or [runners.docker] tls_cert_path at a folder with ca.pem, cert.pem and key.pem',
    );
    expect(e.message).not.toContain('BEGIN');
    expect(e.message).not.toContain('secret');
  });
});
