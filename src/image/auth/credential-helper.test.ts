import { describe, expect, it } from 'vitest';
import { CredentialHelperError, type HelperRunner, helperGet, helperList } from './credential-helper.js';

const runner = (out: string | Error): HelperRunner => ({
  run: async () => {
    if (out instanceof Error) throw out;
    return out;
  },
});

describe('credential helper protocol', () => {
  it('reads fields case-insensitively', async () => {
    expect(await helperGet(runner('{"serverurl":"r","USERNAME":"u","secret":"s"}'), 'x', 'r')).toEqual({
      kind: 'basic',
      username: 'u',
      password: 's',
      serverAddress: 'r',
    });
  });

  it('"credentials not found in native keychain" is no credentials, on failure or success', async () => {
    const failed = new CredentialHelperError('exit 1', false, 'credentials not found in native keychain');
    expect(await helperGet(runner(failed), 'x', 'r')).toBeNull();
    expect(await helperGet(runner('credentials not found in native keychain\n'), 'x', 'r')).toBeNull();
  });

  it('passes other failures on, and refuses non-JSON output without quoting it', async () => {
    await expect(helperGet(runner(new CredentialHelperError('boom', false, 'boom')), 'x', 'r')).rejects.toThrow('boom');
    await expect(helperGet(runner('password=hunter2'), 'x', 'r')).rejects.toThrow('docker-credential-x get printed something that is not a JSON object');
    await expect(helperGet(runner('password=hunter2'), 'x', 'r')).rejects.not.toThrow('hunter2');
  });

  it('lists server URLs', async () => {
    expect(await helperList(runner('{"a.test":"u","b.test":"<token>"}'), 'x')).toEqual({ 'a.test': 'u', 'b.test': '<token>' });
  });
});
