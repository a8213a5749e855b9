import { createServer, connect, type AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { EngineError, EngineUnavailableError, toEngineError } from './engine-error.js';

/** A real ECONNREFUSED: a port that was just closed on 127.0.0.1. */
async function refusedError(): Promise<{ err: Error; port: number }> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;
  await new Promise((ok) => server.close(ok));
  const err = await new Promise<Error>((ok) => connect({ host: '127.0.0.1', port }).once('error', ok));
  return { err, port };
}

describe('toEngineError', () => {
  it('a refused connection names the endpoint and is unreachable', async () => {
    const { err, port } = await refusedError();
    const e = toEngineError('ping', err, `tcp://127.0.0.1:${port}`) as EngineError;
    expect(e).toBeInstanceOf(EngineError);
    expect(e.unreachable).toBe(true);
    expect(e.message).toBe(
      `Cannot reach the Docker engine at tcp://127.0.0.1:${port} (ECONNREFUSED): connect ECONNREFUSED 127.0.0.1:${port}. ` +
        'Is dockerd running, and is DOCKER_HOST or [runners.docker] host right?',
    );
  });

  it("a certificate the client cannot verify is a TLS error naming the endpoint and what to check", () => {
    const tlsErr = Object.assign(new Error('unable to verify the first certificate'), { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    const e = toEngineError('ping', tlsErr, 'tcp://build-1:2376') as EngineError;
    expect(e.unreachable).toBe(true);
    expect(e.message).toMatch(/^TLS with the Docker engine at tcp:\/\/build-1:2376 failed \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\): unable to verify the first certificate\. Check that ca\.pem/);
    const altName = Object.assign(new Error("Hostname/IP does not match certificate's altnames"), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    expect((toEngineError('ping', altName, 'tcp://build-1:2376')).message).toMatch(/^TLS with the Docker engine at tcp:\/\/build-1:2376 failed \(ERR_TLS_CERT_ALTNAME_INVALID\)/);
    const refusedClient = Object.assign(new Error('tlsv13 alert certificate required'), { code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' });
    expect((toEngineError('ping', refusedClient, 'tcp://build-1:2376')).message).toContain('failed (ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED)');
  });

  it("dockerd's answer to plain HTTP on its TLS port says to turn TLS on", () => {
    const answer = Object.assign(new Error('(HTTP code 400) unexpected - Client sent an HTTP request to an HTTPS server.'), {
      statusCode: 400,
      json: { message: 'Client sent an HTTP request to an HTTPS server.' },
    });
    const e = toEngineError('ping', answer, 'tcp://build-1:2376') as EngineError;
    expect(e.statusCode).toBe(400);
    expect(e.message).toBe(
      'The Docker engine at tcp://build-1:2376 speaks TLS, but berth spoke plain HTTP: set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH ' +
        '(--docker-tls-verify/--docker-cert-path, or [runners.docker] tls_verify and tls_cert_path)',
    );
  });

  it('EngineUnavailableError names the endpoint once', () => {
    const cause = new EngineError('ping', 0, 'Cannot reach the Docker engine at tcp://b:2376 (EHOSTUNREACH): x');
    expect(new EngineUnavailableError('berth exec', 'tcp://b:2376', cause).message).toBe(
      'berth exec cannot run jobs: Cannot reach the Docker engine at tcp://b:2376 (EHOSTUNREACH): x',
    );
    expect(new EngineUnavailableError('berth exec', 'tcp://b:2376', new Error('no answer')).message).toBe(
      'berth exec cannot run jobs: the Docker engine at tcp://b:2376 cannot be used: no answer',
    );
  });
});
