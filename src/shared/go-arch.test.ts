import { describe, expect, it } from 'vitest';
import { goArch } from './go-arch.js';

describe('goArch', () => {
  it('names Node\'s architectures as Go\'s GOARCH does; an unknown one as Node does', () => {
    expect(['x64', 'ia32', 'arm64', 'arm', 'ppc64', 's390x', 'mipsel', 'riscv64'].map((a) => goArch(a))).toEqual(['amd64', '386', 'arm64', 'arm', 'ppc64le', 's390x', 'mipsle', 'riscv64']);
    expect(goArch('something-new')).toBe('something-new');
    expect(goArch()).toBe(goArch(process.arch));
  });
});
