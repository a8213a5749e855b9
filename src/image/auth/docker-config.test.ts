import { describe, expect, it } from 'vitest';
import { DockerConfigError, MAX_DOCKER_CONFIG_CHARS, parseDockerConfig } from './docker-config.js';
import { credentialFromAuthEntry } from './static-auth.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');
const SECRET = 'S3cret-Passw0rd!';
const A = b64(`user:${SECRET}`);

/** The DockerConfigError message for a text, checked to carry no secret. */
function failure(text: string, ...secrets: string[]): string {
  try {
    parseDockerConfig(text);
  } catch (err) {
    expect(err).toBeInstanceOf(DockerConfigError);
    const message = (err as Error).message;
    for (const s of [SECRET, A, 'user', ...secrets]) expect(message).not.toContain(s);
    return message;
  }
  throw new Error('parseDockerConfig did not fail');
}

describe('parseDockerConfig', () => {
  it('reads auths (decoding auth), credsStore and credHelpers', () => {
    const c = parseDockerConfig(JSON.stringify({ auths: { 'reg.test': { auth: b64('u:p') } }, credsStore: 'pass', credHelpers: { 'x.test': 'ecr' } }));
    expect(c).toEqual({
      auths: [{ key: 'reg.test', entry: { username: 'u', password: 'p' } }],
      credsStore: 'pass',
      credHelpers: [{ key: 'x.test', helper: 'ecr' }],
      problems: [],
    });
  });

  it('still reads the legacy .dockercfg map (no ConfigFile key at all)', () => {
    expect(parseDockerConfig(JSON.stringify({ 'https://reg.test': { auth: b64('u:p'), email: 'x@y' } }))?.auths).toEqual([
      { key: 'https://reg.test', entry: { username: 'u', password: 'p' } },
    ]);
    // One ConfigFile key (any case) makes it a modern config: the registry map is then ignored, as by gitlab-runner.
    expect(parseDockerConfig(JSON.stringify({ 'reg.test': { auth: b64('u:p') }, PsFormat: 'x', credsStore: 'pass' }))?.auths).toEqual([]);
  });

  it('no configuration: empty text, JSON whitespace, null, or nothing holding credentials (ContainsAuth false)', () => {
    for (const text of ['', '  \n\t\r', 'null', 'null trailing', '{}', '{"auths":{}}', '{"credsStore":""}', '{"psFormat":"x"}']) {
      expect(parseDockerConfig(text), text).toBeNull();
    }
  });

  it.each([
    ['Auths', 'Auth'],
    ['AUTHS', 'AUTH'],
    ['aUtHs', 'aUTh'],
    ['auth\u017f', 'auth'], // U+017F (long s) folds to S in Go
  ])('matches keys case-insensitively: {"%s":{"r":{"%s":...}}}', (auths, auth) => {
    expect(parseDockerConfig(`{"${auths}":{"reg.test":{"${auth}":"${A}"}}}`)?.auths).toEqual([
      { key: 'reg.test', entry: { username: 'user', password: SECRET } },
    ]);
  });

  it('matches every entry field and the helper fields case-insensitively; registry keys stay as written', () => {
    const text = `{"AUTHS":{"Reg.Test":{"Username":"u","PASSWORD":"p"},"id.test":{"IdentityToken":"tok","RegistryToken":"rt","ServerAddress":"x"},
      "k.test":{"identitytoken":"t2"}},"CredsStore":"pass","credhelpers":{"h.test":"ecr"}}`;
    expect(parseDockerConfig(text)).toEqual({
      auths: [
        { key: 'Reg.Test', entry: { username: 'u', password: 'p' } },
        { key: 'id.test', entry: { identitytoken: 'tok', registrytoken: 'rt' } },
        { key: 'k.test', entry: { identitytoken: 't2' } },
      ],
      credsStore: 'pass',
      credHelpers: [{ key: 'h.test', helper: 'ecr' }],
      problems: [],
    });
    // U+212A (Kelvin sign) folds to K; a key that differs by more than case matches nothing.
    expect(parseDockerConfig('{"auths":{"r":{"identityto\u212aen":"t","user_name":"u"}}}')?.auths).toEqual([{ key: 'r', entry: { identitytoken: 't' } }]);
  });

  it('duplicates: map fields merge, a later registry key replaces the whole entry, the last string wins', () => {
    const text =
      `{"auths":{"a.test":{"auth":"${b64('a:1')}"},"r.test":{"identitytoken":"old"}},` +
      `"Auths":{"b.test":{"auth":"${b64('b:2')}"},"r.test":{"auth":"${b64('r:3')}","Auth":"${b64('r:4')}"}},` +
      `"credsStore":"one","CREDSSTORE":"two","credsStore":null}`;
    expect(parseDockerConfig(text)).toEqual({
      auths: [
        { key: 'a.test', entry: { username: 'a', password: '1' } },
        { key: 'r.test', entry: { username: 'r', password: '4' } },
        { key: 'b.test', entry: { username: 'b', password: '2' } },
      ],
      credsStore: 'two',
      credHelpers: [],
      problems: [],
    });
    // Registry keys are map keys: exact, so "R.test" is another entry. null empties a map.
    expect(parseDockerConfig(`{"auths":{"r":{"auth":"${A}"},"R":{"auth":"${A}"}}}`)?.auths.map((e) => e.key)).toEqual(['r', 'R']);
    expect(parseDockerConfig(`{"auths":{"r":{"auth":"${A}"}},"AUTHS":null,"credsStore":"pass"}`)?.auths).toEqual([]);
  });

  it('reads the first JSON value and ignores what follows it', () => {
    const first = `{"auths":{"reg.test":{"auth":"${A}"}}}`;
    for (const tail of ['}', ' garbage', '{"auths":{"other.test":{"auth":"!!"}}}', '\n', ']]] "unterminated']) {
      expect(parseDockerConfig(first + tail)?.auths, JSON.stringify(tail)).toEqual([{ key: 'reg.test', entry: { username: 'user', password: SECRET } }]);
    }
    expect(parseDockerConfig(` \n${first}`)?.auths).toHaveLength(1);
  });

  it('never quotes the text of broken JSON', () => {
    const text = `{"auths": {"reg.test": {"password": "${SECRET}"`;
    expect(failure(text)).toBe(`not valid JSON (unexpected end of input; ${text.length} characters, content not shown)`);
    for (const bad of [`{"auths":{"r":{"password":'${SECRET}'}}}`, `{"auths":{"r":{"password":"\\x${SECRET}"}}}`, `\ufeff{"auths":{}}`, `{"a":01}`, '{"a":tru}']) {
      expect(failure(bad)).toMatch(/^not valid JSON \(syntax error; \d+ characters, content not shown\)$/);
    }
    expect(failure(`${'['.repeat(2000)}`)).toContain('nested more than 1000 levels deep');
  });

  it('a value of the wrong type fails the whole config with Go\'s UnmarshalTypeError text', () => {
    const cases: [string, string][] = [
      ['[]', 'json: cannot unmarshal array into Go value of type configfile.ConfigFile'],
      ['"text"', 'json: cannot unmarshal string into Go value of type configfile.ConfigFile'],
      ['{"Auths":[]}', 'json: cannot unmarshal array into Go struct field ConfigFile.auths of type map[string]types.AuthConfig'],
      ['{"auths":{"r":"x"}}', 'json: cannot unmarshal string into Go struct field ConfigFile.auths of type types.AuthConfig'],
      [`{"auths":{"ok":{"auth":"${A}"},"r":{"auth":5}}}`, 'json: cannot unmarshal number into Go struct field AuthConfig.auths.auth of type string'],
      ['{"auths":{"r":{"Password":{"x":1}}}}', 'json: cannot unmarshal object into Go struct field AuthConfig.auths.password of type string'],
      ['{"credsStore":true}', 'json: cannot unmarshal bool into Go struct field ConfigFile.credsStore of type string'],
      ['{"credHelpers":{"h":3}}', 'json: cannot unmarshal number into Go struct field ConfigFile.credHelpers of type string'],
    ];
    for (const [text, message] of cases) expect(failure(text), text).toBe(message);
  });

  it('keeps empty helper names as an ignored part', () => {
    expect(parseDockerConfig('{"credHelpers":{"h":"","g":null,"ok":"pass"}}')).toEqual({
      auths: [],
      credsStore: null,
      credHelpers: [{ key: 'ok', helper: 'pass' }],
      problems: ['credHelpers["h"] is not a helper name: ignored', 'credHelpers["g"] is not a helper name: ignored'],
    });
  });

  it('a malformed auth fails the whole config (docker/cli decodeAuth), naming no value', () => {
    const good = `"good.test":{"auth":"${A}"}`;
    const cases: [string, string][] = [
      [b64(`:${SECRET}`), 'invalid auth configuration file'],
      [b64(`user${SECRET}`), 'invalid auth configuration file'],
      ['!!!!', 'illegal base64 data at input byte 0'],
      // base64("user:pw") is dXNlcjpwdw== ; Go's StdEncoding wants the padding.
      ['dXNlcjpwdw', 'illegal base64 data at input byte 8'],
      ['dXNlcjpwdw==x', 'illegal base64 data at input byte 12'],
      ['dXNlcjpwd===', 'illegal base64 data at input byte 9'],
      ['=dXNlcjpwdw==', 'illegal base64 data at input byte 0'],
    ];
    expect(parseDockerConfig('{"auths":{"r":{"auth":"dXNlcjpwdw=="}}}')?.auths[0]?.entry).toEqual({ username: 'user', password: 'pw' });
    for (const [auth, message] of cases) {
      expect(failure(`{"auths":{${good},"bad.test":{"auth":"${auth}"}}}`, auth), auth).toBe(message);
      expect(failure(`{"bad.test":{"Auth":"${auth}"}}`, auth), `legacy ${auth}`).toBe(message);
    }
  });

  it('decodes auth as docker/cli: first colon, NULs trimmed from both ends, CR/LF skipped, auth over username', () => {
    const c = parseDockerConfig(
      JSON.stringify({
        auths: {
          a: { auth: b64('user:\0pa:ss\0\0') },
          b: { auth: `${b64('abc:def').slice(0, 4)}\r\n${b64('abc:def').slice(4)}` },
          c: { auth: b64('x:y'), username: 'ignored', password: 'ignored' },
          d: { auth: '', username: 'u', password: 'p' },
        },
      }),
    );
    expect(c?.auths.map((e) => e.entry)).toEqual([
      { username: 'user', password: 'pa:ss' },
      { username: 'abc', password: 'def' },
      { username: 'x', password: 'y' },
      { username: 'u', password: 'p' },
    ]);
  });

  it('refuses an oversized text unread', () => {
    expect(failure(`{"auths":{}}${' '.repeat(MAX_DOCKER_CONFIG_CHARS)}`)).toMatch(/^larger than 4 MiB \(\d+ characters; content not shown\)$/);
  });
});

describe('credentialFromAuthEntry', () => {
  it('makes basic credentials from username/password', () => {
    expect(credentialFromAuthEntry('k', { username: 'u', password: 'p' })).toEqual({ ok: true, credential: { kind: 'basic', username: 'u', password: 'p', serverAddress: 'k' } });
  });

  it('makes identity-token credentials', () => {
    expect(credentialFromAuthEntry('k', { identitytoken: 'tok', username: 'u' })).toEqual({
      ok: true,
      credential: { kind: 'identity-token', identityToken: 'tok', username: 'u', serverAddress: 'k' },
    });
  });

  it.each([
    [{}, 'empty entry'],
    [{ registrytoken: 'x' }, 'not supported'],
    [{ username: 'u' }, 'without a password'],
    [{ password: 'p' }, 'without a username'],
  ])('refuses %j', (entry, why) => {
    const r = credentialFromAuthEntry('k', entry);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.reason).toContain(why);
  });
});
