import { describe, expect, it } from 'vitest';
import {
  type NamedImageRef,
  ImageRefError,
  authLookupPath,
  canonicalName,
  canonicalReference,
  familiarName,
  parseImageRef,
  pullReference,
} from './image-ref.js';

const D = `sha256:${'a'.repeat(64)}`;

function named(text: string): NamedImageRef {
  const ref = parseImageRef(text);
  if (ref.kind !== 'named') throw new Error(`${text} parsed as an ID`);
  return ref;
}

describe('parseImageRef: the reference grammar', () => {
  it.each([
    ['ruby', 'docker.io', 'library/ruby', null, null],
    ['ruby:3.3', 'docker.io', 'library/ruby', '3.3', null],
    ['user/app', 'docker.io', 'user/app', null, null],
    ['docker.io/ruby', 'docker.io', 'library/ruby', null, null],
    ['index.docker.io/user/app:1', 'docker.io', 'user/app', '1', null],
    ['registry.test:5000/group/sub/app:1.2', 'registry.test:5000', 'group/sub/app', '1.2', null],
    ['localhost/app', 'localhost', 'app', null, null],
    ['localhost:5000/app:v_1-x.y', 'localhost:5000', 'app', 'v_1-x.y', null],
    ['127.0.0.1:5000/a/b', '127.0.0.1:5000', 'a/b', null, null],
    ['[::1]:5000/app', '[::1]:5000', 'app', null, null],
    [`app@${D}`, 'docker.io', 'library/app', null, D],
    [`reg.test/app:1@${D}`, 'reg.test', 'app', '1', D],
    ['a.b-c/d__e.f-g', 'a.b-c', 'd__e.f-g', null, null],
    ['my-name/x--y', 'docker.io', 'my-name/x--y', null, null],
    ['Registry.Test:5000/app', 'Registry.Test:5000', 'app', null, null],
  ])('%s', (text, domain, path, tag, digest) => {
    const ref = named(text);
    expect({ domain: ref.domain, path: ref.path, tag: ref.tag, digest: ref.digest }).toEqual({ domain, path, tag, digest });
  });

  it('takes a port for a port, not for a tag, by the grammar', () => {
    expect(named('localhost:5000/app').tag).toBeNull();
    expect(named('localhost:5000').tag).toBe('5000');
    expect(named('localhost:5000').path).toBe('library/localhost');
    expect(named('reg.test:5000/app:5000').tag).toBe('5000');
  });

  it('treats an upper-case first component as a registry (as Docker does)', () => {
    expect(named('Foo/bar').domain).toBe('Foo');
  });

  it.each([
    ['', 'empty'],
    ['Ruby', 'lowercase'],
    ['registry.test:5000/App', 'lowercase'],
    ['group/App:1', 'lowercase'],
    ['app:', 'tag'],
    ['app:-x', 'tag'],
    [`app:${'t'.repeat(129)}`, 'tag'],
    ['app@sha256:abc', 'digest'],
    [`app@sha256:${'A'.repeat(64)}`, 'lowercase hex'],
    [`app@md5:${'a'.repeat(32)}`, 'unsupported digest algorithm'],
    ['app//x', 'repository path'],
    ['-app', 'repository path'],
    ['app_', 'repository path'],
    ['reg.test:port/app', 'registry host'],
    ['-reg.test/app', 'registry host'],
    ['reg_x.test/app', 'registry host'],
    ['app with space', 'repository path'],
    [`${'a'.repeat(256)}`, '255'],
  ])('rejects %j (%s)', (text, why) => {
    expect(() => parseImageRef(text)).toThrow(ImageRefError);
    expect(() => parseImageRef(text)).toThrow(why);
  });

  it('recognises image IDs, which are never names', () => {
    expect(parseImageRef(D)).toEqual({ kind: 'id', input: D, id: D });
    expect(parseImageRef('a'.repeat(64))).toMatchObject({ kind: 'id', id: D });
  });
});

describe('normalised forms', () => {
  it.each([
    ['ruby', 'docker.io/library/ruby', 'ruby', 'ruby:latest', 'docker.io/ruby'],
    ['library/ruby:3', 'docker.io/library/ruby', 'ruby', 'ruby:3', 'docker.io/library/ruby'],
    ['docker.io/library/ruby', 'docker.io/library/ruby', 'ruby', 'ruby:latest', 'docker.io/library/ruby'],
    ['user/app', 'docker.io/user/app', 'user/app', 'user/app:latest', 'docker.io/user/app'],
    ['index.docker.io/user/app', 'docker.io/user/app', 'user/app', 'user/app:latest', 'docker.io/user/app'],
    ['Reg.Test:5000/ns/app:1', 'Reg.Test:5000/ns/app', 'Reg.Test:5000/ns/app', 'Reg.Test:5000/ns/app:1', 'reg.test:5000/ns/app'],
    [`reg.test/app@${D}`, 'reg.test/app', 'reg.test/app', `reg.test/app@${D}`, 'reg.test/app'],
    [`reg.test/app:1@${D}`, 'reg.test/app', 'reg.test/app', `reg.test/app@${D}`, 'reg.test/app'],
    ['localhost:5000/app', 'localhost:5000/app', 'localhost:5000/app', 'localhost:5000/app:latest', 'localhost:5000/app'],
  ])('%s', (text, canonical, familiar, pull, authPath) => {
    const ref = named(text);
    expect(canonicalName(ref)).toBe(canonical);
    expect(familiarName(ref)).toBe(familiar);
    expect(pullReference(ref)).toBe(pull);
    expect(authLookupPath(ref)).toBe(authPath);
  });

  it('adds :latest only when there is neither a tag nor a digest', () => {
    expect(pullReference(named(`app@${D}`))).toBe(`app@${D}`);
    expect(pullReference(named('reg.test:5000/app'))).toBe('reg.test:5000/app:latest');
    expect(canonicalReference(named('ruby'))).toBe('docker.io/library/ruby:latest');
  });
});
