import { describe, expect, it } from 'vitest';
import { transferMeterFrequency } from './transfer-meter-frequency.js';

const vars = (value?: string) => (value === undefined ? [] : [{ key: 'TRANSFER_METER_FREQUENCY', value, public: true, masked: false, file: false, raw: false }]);

describe('TRANSFER_METER_FREQUENCY', () => {
  it('is off unset, empty or 0', () => {
    for (const v of [undefined, '', '  ', '0', '0s']) expect(transferMeterFrequency(vars(v)), String(v)).toEqual({ ms: 0, problem: null });
  });

  it('takes a Go duration, at least a second (the meter ticks no faster)', () => {
    expect(transferMeterFrequency(vars('2s'))).toEqual({ ms: 2000, problem: null });
    expect(transferMeterFrequency(vars('1m30s'))).toEqual({ ms: 90_000, problem: null });
    expect(transferMeterFrequency(vars('500ms'))).toEqual({ ms: 1000, problem: null });
  });

  it('warns about a value that is no duration and leaves the meter off', () => {
    for (const v of ['5', 'fast', '2 s']) {
      const got = transferMeterFrequency(vars(v));
      expect(got.ms).toBe(0);
      expect(got.problem).toBe(`TRANSFER_METER_FREQUENCY: ${JSON.stringify(v)} is not a duration such as "5s" or "1m30s"; the transfer meter is off`);
    }
  });
});
