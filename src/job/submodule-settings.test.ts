import { describe, expect, it } from 'vitest';
import { plainVariable } from './job-spec.js';
import { submoduleSettings } from './submodule-settings.js';

const vars = (entries: Record<string, string>) => Object.entries(entries).map(([k, v]) => plainVariable(k, v));

describe('submoduleSettings (gitlab-runner common/build_settings.go, common/build.go)', () => {
  it('none by default, and for an empty or "none" strategy', () => {
    for (const v of [{}, { GIT_SUBMODULE_STRATEGY: '' }, { GIT_SUBMODULE_STRATEGY: 'none' }] as Record<string, string>[]) {
      expect(submoduleSettings(vars(v), 20)).toEqual({ strategy: 'none', paths: [], depth: 0, updateFlags: [], forceHttps: false, warnings: [] });
    }
  });

  it('none whatever it says when GIT_STRATEGY is none or empty (no sources, no submodules)', () => {
    for (const s of ['none', 'empty']) {
      expect(submoduleSettings(vars({ GIT_STRATEGY: s, GIT_SUBMODULE_STRATEGY: 'recursive' }), 0).strategy).toBe('none');
      expect(submoduleSettings(vars({ GIT_STRATEGY: s, GIT_SUBMODULE_STRATEGY: 'bogus' }), 0).strategy).toBe('none');
    }
  });

  it('normal and recursive; the depth defaults to the job\'s git depth', () => {
    expect(submoduleSettings(vars({ GIT_SUBMODULE_STRATEGY: 'normal' }), 20)).toMatchObject({ strategy: 'normal', depth: 20 });
    expect(submoduleSettings(vars({ GIT_STRATEGY: 'fetch', GIT_SUBMODULE_STRATEGY: 'recursive', GIT_SUBMODULE_DEPTH: '3' }), 20)).toMatchObject({ strategy: 'recursive', depth: 3 });
    expect(submoduleSettings(vars({ GIT_SUBMODULE_STRATEGY: 'recursive', GIT_SUBMODULE_DEPTH: '0' }), 20).depth).toBe(0);
  });

  it('an unknown strategy fails, with gitlab-runner\'s words', () => {
    expect(() => submoduleSettings(vars({ GIT_SUBMODULE_STRATEGY: 'Recursive' }), 0)).toThrow(`unknown GIT_SUBMODULE_STRATEGY: expected either 'normal', 'recursive' or 'none' got "Recursive"`);
  });

  it('paths and update flags split on white space; a lone ":(exclude)" fails', () => {
    const s = submoduleSettings(vars({ GIT_SUBMODULE_STRATEGY: 'normal', GIT_SUBMODULE_PATHS: ' libs/a  :(exclude)libs/b\t:!c ', GIT_SUBMODULE_UPDATE_FLAGS: '--remote  --jobs 4' }), 0);
    expect(s.paths).toEqual(['libs/a', ':(exclude)libs/b', ':!c']);
    expect(s.updateFlags).toEqual(['--remote', '--jobs', '4']);
    expect(() => submoduleSettings(vars({ GIT_SUBMODULE_STRATEGY: 'normal', GIT_SUBMODULE_PATHS: ':(exclude) libs/b' }), 0)).toThrow(
      /^GIT_SUBMODULE_PATHS: invalid submodule pathspec ":\(exclude\) libs\/b"/,
    );
  });

  it('GIT_SUBMODULE_FORCE_HTTPS as Go\'s ParseBool; a bad depth or bool warns and keeps the default', () => {
    expect(submoduleSettings(vars({ GIT_SUBMODULE_STRATEGY: 'normal', GIT_SUBMODULE_FORCE_HTTPS: 'TRUE' }), 0).forceHttps).toBe(true);
    expect(submoduleSettings(vars({ GIT_SUBMODULE_STRATEGY: 'normal', GIT_SUBMODULE_FORCE_HTTPS: '0' }), 0).forceHttps).toBe(false);
    const s = submoduleSettings(vars({ GIT_SUBMODULE_STRATEGY: 'normal', GIT_SUBMODULE_FORCE_HTTPS: 'yes', GIT_SUBMODULE_DEPTH: 'ten' }), 5);
    expect(s).toMatchObject({ forceHttps: false, depth: 5 });
    expect(s.warnings).toEqual(['GIT_SUBMODULE_DEPTH: expected int got "ten", using default value: 5', 'GIT_SUBMODULE_FORCE_HTTPS: expected bool got "yes", using default value: false']);
  });
});
