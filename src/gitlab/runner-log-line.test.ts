import { describe, expect, it } from 'vitest';
import { runnerLogLine } from './runner-log-line.js';

describe('runnerLogLine (logrus RunnerTextFormatter)', () => {
  it('pads the message to 50 characters minus the level prefix, then one space and " key=value" per sorted key', () => {
    expect(runnerLogLine('info', 'short', { b: 2, a: 'x' })).toBe(`short${' '.repeat(45)}  a=x b=2`);
    expect(runnerLogLine('warning', 'Retrying...', { error: 'e', context: 'artifacts-uploader' })).toBe(
      `Retrying...${' '.repeat(30)}  context=artifacts-uploader error=e`,
    );
    expect(runnerLogLine('error', 'x', {})).toBe('x');
    expect(('ERROR: ' + runnerLogLine('error', 'x', { k: 1 })).indexOf('k=')).toBe(52);
  });

  it('a message of 50 characters or more is followed by two spaces', () => {
    const msg = 'Uploading artifacts as "archive" to coordinator... 201 Created';
    expect(runnerLogLine('info', msg, { id: 7, status: 201 })).toBe(`${msg}  id=7 status=201`);
  });
});
