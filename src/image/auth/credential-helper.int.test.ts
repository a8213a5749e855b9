/** ProcessHelperRunner with real programs: PATH lookup, stdin without newline, failures, timeout. */
import { afterAll, describe, expect, it } from 'vitest';
import { createHelperDir } from '../../../test/support/credential-helper.js';
import { CredentialHelperError, ProcessHelperRunner, helperGet } from './credential-helper.js';

const dir = createHelperDir();
afterAll(() => dir.dispose());

describe('ProcessHelperRunner', () => {
  it('finds docker-credential-<name> on the given PATH and writes the server URL without a newline', async () => {
    dir.write('echo', 'printf \'{"ServerURL":"%s","Username":"u","Secret":"s"}\' "$(od -An -c | tr -d \' \\n\')"');
    const cred = await helperGet(new ProcessHelperRunner(`/nonexistent:${dir.dir}`), 'echo', 'reg.test:5000');
    expect(cred).toEqual({ kind: 'basic', username: 'u', password: 's', serverAddress: 'reg.test:5000' });
    const seen = await new ProcessHelperRunner(dir.dir).run('echo', 'get', 'reg.test:5000');
    expect(JSON.parse(seen).ServerURL).toBe('reg.test:5000');
  });

  it('reports a missing program as missing, a failure with its first output line', async () => {
    const runner = new ProcessHelperRunner(dir.dir);
    await expect(runner.run('absent', 'get', 'x')).rejects.toMatchObject({ missing: true, message: 'docker-credential-absent was not found on PATH' });
    dir.write('fail', 'echo "store locked" >&2; exit 3');
    await expect(runner.run('fail', 'get', 'x')).rejects.toThrow('docker-credential-fail get exited with code 3: store locked');
    dir.write('nf', 'echo "credentials not found in native keychain"; exit 1');
    expect(await helperGet(runner, 'nf', 'x')).toBeNull();
  });

  it('stops a helper that hangs', async () => {
    dir.write('hang', 'exec sleep 30');
    const started = Date.now();
    const err = await new ProcessHelperRunner(dir.dir, 300).run('hang', 'get', 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CredentialHelperError);
    expect((err as Error).message).toBe('docker-credential-hang get was stopped by SIGTERM (timeout)');
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
