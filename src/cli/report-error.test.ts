import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { EngineError, EngineUnavailableError } from '../engine/engine-error.js';
import { BerthError, InputError } from '../shared/errors.js';
import { reportError } from './report-error.js';

function report(err: unknown): { code: number; text: string } {
  const stderr = new PassThrough();
  const code = reportError(err, stderr);
  return { code, text: String(stderr.read() ?? '') };
}

describe('reportError', () => {
  it('exits 2 for bad input, 1 for anything else', () => {
    expect(report(new InputError('bad key', { file: 'config.toml', line: 3 })).code).toBe(2);
    expect(report(new BerthError('config_read', 'Failed to read config file x')).code).toBe(1);
    expect(report(new Error('boom')).code).toBe(1);
    expect(report('a string').code).toBe(1);
  });

  it('an engine that does not answer is a typed command-level error, printed once', () => {
    const cause = new EngineError('ping', 0, 'Cannot reach the Docker engine (ECONNREFUSED): connect ECONNREFUSED /var/run/docker.sock');
    const err = new EngineUnavailableError('berth exec', 'unix:///var/run/docker.sock', cause);
    expect(err).toMatchObject({ code: 'engine_unavailable', cause });
    expect(report(err)).toEqual({
      code: 2,
      text: 'berth: error: berth exec cannot run jobs: the Docker engine at unix:///var/run/docker.sock cannot be used: Cannot reach the Docker engine (ECONNREFUSED): connect ECONNREFUSED /var/run/docker.sock\n',
    });
  });
});
