import { describe, expect, it } from 'vitest';
import { cjsNamed } from './cjs-named.js';

describe('cjsNamed', () => {
  it('takes the namespace when it has the export, else its default when that has it', () => {
    const direct = { S3Client: 1 };
    expect(cjsNamed(direct, 'S3Client')).toBe(direct);
    const inner = { S3Client: 2 };
    expect(cjsNamed({ default: inner }, 'S3Client')).toBe(inner);
    const neither = { default: { other: 3 } };
    expect(cjsNamed(neither, 'S3Client')).toBe(neither);
  });
});
