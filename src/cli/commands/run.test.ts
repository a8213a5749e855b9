import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { logLevelArg } from './run.js';

describe('berth run --log-level', () => {
  it('takes gitlab-runner\'s levels in any case', () => {
    expect(['trace', 'Debug', 'INFO', 'warning', 'warn', 'fatal', 'panic'].map(logLevelArg)).toEqual(['debug', 'debug', 'info', 'warn', 'warn', 'error', 'error']);
    expect(() => logLevelArg('loud')).toThrow(InvalidArgumentError);
  });
});
