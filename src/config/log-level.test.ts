import { describe, expect, it } from 'vitest';
import { parseLogLevel } from './log-level.js';

describe('parseLogLevel', () => {
  it('maps logrus levels (any case) onto berth levels', () => {
    expect(['trace', 'DEBUG', 'Info', 'warn', 'WARNING', 'error', 'fatal', 'Panic'].map(parseLogLevel)).toEqual([
      'debug',
      'debug',
      'info',
      'warn',
      'warn',
      'error',
      'error',
      'error',
    ]);
  });

  it('refuses what logrus refuses', () => {
    expect(parseLogLevel('verbose')).toBeUndefined();
    expect(parseLogLevel('constructor')).toBeUndefined();
    expect(parseLogLevel('')).toBeUndefined();
  });
});
