import { describe, expect, it } from 'vitest';
import { goVariableBool, parseGoBool } from './go-bool.js';

describe('parseGoBool', () => {
  it('is Go\'s strconv.ParseBool: the exact spellings only', () => {
    expect(['1', 't', 'T', 'TRUE', 'true', 'True'].map(parseGoBool)).toEqual(Array(6).fill(true));
    expect(['0', 'f', 'F', 'FALSE', 'false', 'False'].map(parseGoBool)).toEqual(Array(6).fill(false));
    expect(['tRuE', 'yes', '', ' true'].map(parseGoBool)).toEqual([null, null, null, null]);
  });
});

describe('goVariableBool', () => {
  it('is gitlab-runner\'s Variables.Bool: ParseBool of the lower-cased value, else an integer equal to 1', () => {
    for (const v of ['true', 'TRUE', 'tRuE', 't', '1', '01', '+1']) expect(goVariableBool(v), v).toBe(true);
    for (const v of [undefined, '', 'false', 'FaLsE', '0', '2', '-1', 'yes', 'on', ' true', '1.0']) expect(goVariableBool(v), String(v)).toBe(false);
  });
});
