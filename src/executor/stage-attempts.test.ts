import { describe, expect, it } from 'vitest';
import { testJob } from '../../test/support/job-fixtures.js';
import { plainVariable } from '../job/job-spec.js';
import { featureFlagOn } from '../job/feature-flags.js';
import { parseGoBool } from '../shared/go-bool.js';
import { retryDelayMs, stageAttempts } from './stage-attempts.js';

describe('stage attempts', () => {
  it('reads the variable as gitlab-runner does: empty is 1, integers clamped to 1-10, anything else 1 with a problem', () => {
    const of = (v?: string) => stageAttempts(testJob(v === undefined ? {} : { variables: [plainVariable('ARTIFACT_DOWNLOAD_ATTEMPTS', v)] }), 'ARTIFACT_DOWNLOAD_ATTEMPTS');
    expect(of()).toEqual({ attempts: 1, problem: null });
    expect(of('')).toEqual({ attempts: 1, problem: null });
    expect(of('3')).toEqual({ attempts: 3, problem: null });
    expect(of('+10')).toEqual({ attempts: 10, problem: null });
    expect(of('0').attempts).toBe(1);
    expect(of('0').problem).toBe('ARTIFACT_DOWNLOAD_ATTEMPTS: number of attempts out of the range [1, 10], clamping to: 1');
    expect(of('-4').attempts).toBe(1);
    expect(of('99').attempts).toBe(10);
    expect(of('2.5')).toEqual({ attempts: 1, problem: 'ARTIFACT_DOWNLOAD_ATTEMPTS: expected int got "2.5", using default value: 1' });
    expect(of(' 3').attempts).toBe(1);
    // Beyond 64 bits Go's ParseInt fails: the default, not a clamp.
    expect(of('99999999999999999999')).toEqual({ attempts: 1, problem: 'ARTIFACT_DOWNLOAD_ATTEMPTS: expected int got "99999999999999999999", using default value: 1' });
    expect(of('9223372036854775807')).toMatchObject({ attempts: 10 });
  });

  it('waits 5 s, 10 s, 20 s ... up to 5 min (exponential backoff), else 1 s, 2 s, 4 s, then 5 s', () => {
    expect([1, 2, 3, 4, 6, 7, 9].map((r) => retryDelayMs(r, true))).toEqual([5_000, 10_000, 20_000, 40_000, 160_000, 300_000, 300_000]);
    expect([1, 2, 3, 4, 9].map((r) => retryDelayMs(r, false))).toEqual([1_000, 2_000, 4_000, 5_000, 5_000]);
  });
});

describe('feature flags', () => {
  it('the runner\'s [runners.feature_flags] wins, then a job variable Go can parse as a bool, then the default', () => {
    const vars = (v: string) => [plainVariable('FF_X', v)];
    expect(featureFlagOn('FF_X', true, {}, [])).toBe(true);
    expect(featureFlagOn('FF_X', true, {}, vars('false'))).toBe(false);
    expect(featureFlagOn('FF_X', true, {}, vars('0'))).toBe(false);
    expect(featureFlagOn('FF_X', true, {}, vars('no'))).toBe(true);
    expect(featureFlagOn('FF_X', false, { FF_X: true }, vars('false'))).toBe(true);
    expect(featureFlagOn('FF_X', true, { FF_X: false }, vars('true'))).toBe(false);
    expect(['1', 't', 'T', 'TRUE', 'true', 'True'].map(parseGoBool)).toEqual(Array(6).fill(true));
    expect(['0', 'f', 'F', 'FALSE', 'false', 'False'].map(parseGoBool)).toEqual(Array(6).fill(false));
    expect(['yes', 'tRUE', '', ' true'].map(parseGoBool)).toEqual([null, null, null, null]);
  });
});
