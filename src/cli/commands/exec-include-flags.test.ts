import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InputError } from '../../shared/errors.js';
import { parseIncludeProjects } from './exec.js';

describe('--include-project', () => {
  it('maps group/project to an absolute checkout path; the last one of a project wins', () => {
    expect(parseIncludeProjects(['group/lib=../lib', '/group/sub/comps/=/srv/comps', 'group/lib=/x'])).toEqual({ 'group/lib': '/x', 'group/sub/comps': '/srv/comps' });
    expect(parseIncludeProjects(['a/b=rel'])).toEqual({ 'a/b': resolve('rel') });
  });

  it.each(['lib=/x', 'group/lib', 'group/lib=', '=/x'])('refuses %j with a usage error', (entry) => {
    expect(() => parseIncludeProjects([entry])).toThrow(InputError);
    expect(() => parseIncludeProjects([entry])).toThrow(`--include-project: "${entry}" is not group/project=/path/to/checkout`);
  });
});
