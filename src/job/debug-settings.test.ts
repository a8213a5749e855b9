import { describe, expect, it } from 'vitest';
import { debugSettings } from './debug-settings.js';
import { plainVariable } from './job-spec.js';

describe('debugSettings (gitlab-runner common/build_settings.go)', () => {
  it.each(['1', 't', 'T', 'TRUE', 'true', 'True'])('CI_DEBUG_TRACE=%s is on, as Go\'s ParseBool reads it', (value) => {
    expect(debugSettings([plainVariable('CI_DEBUG_TRACE', value)], false)).toEqual({ trace: true, services: false, debugMode: true, warnings: [] });
  });

  it.each(['yes', 'on', '', 'false', '0'])('CI_DEBUG_TRACE=%j is off', (value) => {
    expect(debugSettings([plainVariable('CI_DEBUG_TRACE', value)], false).trace).toBe(false);
  });

  it('CI_DEBUG_SERVICES streams the services\' output and makes the log a debug log, without tracing the commands', () => {
    expect(debugSettings([plainVariable('CI_DEBUG_SERVICES', 'true')], false)).toEqual({ trace: false, services: true, debugMode: true, warnings: [] });
  });

  it('debug_trace_disabled turns both off with gitlab-runner\'s warning for each the job asked for', () => {
    const vars = [plainVariable('CI_DEBUG_TRACE', '1'), plainVariable('CI_DEBUG_SERVICES', 'True')];
    expect(debugSettings(vars, true)).toEqual({
      trace: false,
      services: false,
      debugMode: false,
      warnings: ['CI_DEBUG_TRACE: usage is disabled on this Runner', 'CI_DEBUG_SERVICES: usage is disabled on this Runner'],
    });
  });
});
