import { describe, expect, it } from 'vitest';
import { InputError } from '../shared/errors.js';
import { newConfig } from './berth-config.js';
import { encodeConfig } from './encode-config.js';
import { parseConfig } from './parse-config.js';
import { parseFlagValue, readRegisterInput, registerFlagSpecs, type FlagSpec } from './register-flags.js';
import { mergeTemplate } from './template-merge.js';

const parseText = (text: string) => parseConfig(text, { file: 'config.toml', env: {} });
const RUNNER = '[[runners]]\n  name = "r"\n  url = "https://gitlab.test"\n  token = "glrt-x"\n  executor = "docker"\n';

const S3_CACHE = `${RUNNER}  cache_dir = "/srv/cache"
  [runners.cache]
    Type = "s3"
    Path = "ci"
    Shared = true
    MaxUploadedArchiveSize = 1048576
    [runners.cache.s3]
      ServerAddress = "minio.test:9000"
      AccessKey = "AKIAEXAMPLE"
      SecretKey = "very-secret-key"
      SessionToken = "very-secret-session"
      BucketName = "runner-cache"
      BucketLocation = "eu-west-1"
      Insecure = true
      AuthenticationType = "access-key"
      ServerSideEncryption = "KMS"
      ServerSideEncryptionKeyID = "alias/cache"
      DualStack = false
      PathStyle = true
`;

function errorOf(text: string): InputError {
  try {
    parseText(text);
  } catch (err) {
    if (err instanceof InputError) return err;
    throw err;
  }
  throw new Error('expected an InputError');
}

describe('[runners.cache]', () => {
  it('reads gitlab-runner\'s keys', () => {
    const { config, warnings } = parseText(S3_CACHE);
    expect(warnings).toEqual([]);
    const r = config.runners[0]!;
    expect(r.cacheDir).toBe('/srv/cache');
    expect(r.cache).toMatchObject({ type: 's3', path: 'ci', shared: true, maxUploadedArchiveSize: 1048576 });
    expect(r.cache.s3).toEqual({
      serverAddress: 'minio.test:9000',
      accessKey: 'AKIAEXAMPLE',
      secretKey: 'very-secret-key',
      sessionToken: 'very-secret-session',
      bucketName: 'runner-cache',
      bucketLocation: 'eu-west-1',
      insecure: true,
      authenticationType: 'access-key',
      serverSideEncryption: 'KMS',
      serverSideEncryptionKeyId: 'alias/cache',
      dualStack: false,
      pathStyle: true,
      accelerate: false,
      roleArn: '',
      uploadRoleArn: '',
      assumeRoleMaxConcurrency: 0,
      disableAssumeRoleCredentialsCaching: false,
    });
  });

  it('defaults to no distributed cache, DualStack and PathStyle unset', () => {
    const r = parseText(RUNNER).config.runners[0]!;
    expect(r.cache).toMatchObject({ type: '', path: '', shared: false, maxUploadedArchiveSize: 0 });
    expect(r.cache.s3.dualStack).toBeNull();
    expect(r.cache.s3.pathStyle).toBeNull();
  });

  it('round-trips through save with gitlab-runner\'s names and layout', () => {
    const first = parseText(S3_CACHE).config;
    const text = encodeConfig(first, {});
    expect(text).toContain(
      '  [runners.cache]\n    Type = "s3"\n    Path = "ci"\n    Shared = true\n    MaxUploadedArchiveSize = 1048576\n    [runners.cache.s3]\n      ServerAddress = "minio.test:9000"\n',
    );
    expect(text).toContain('      ServerSideEncryptionKeyID = "alias/cache"\n      DualStack = false\n      PathStyle = true\n');
    expect(text).not.toContain('[runners.cache.gcs]');
    expect(parseText(text).config).toEqual(first);
  });

  it('an unknown or unsupported Type (gcsv2, a typo) is a warning and the cache stays local, as gitlab-runner logs and goes on', () => {
    for (const type of ['gcsv2', 'minio', 'S3']) {
      const { config, warnings } = parseText(`${RUNNER}  [runners.cache]\n    Type = "${type}"\n    Shared = true\n    [runners.cache.gcs]\n      BucketName = "b"\n`);
      expect(warnings.map((w) => w.message)).toEqual([`config.toml:7: [[runners]][0].cache.Type: "${type}" is not supported by berth yet; the cache stays local`]);
      expect(config.runners[0]!.cache).toMatchObject({ type, shared: true });
    }
  });

  it('keeps gcs and azure settings, with a warning that the cache stays local', () => {
    const text = `${RUNNER}  [runners.cache]\n    Type = "gcs"\n    [runners.cache.gcs]\n      BucketName = "b"\n      PrivateKey = "gcs-private-key"\n`;
    const { config, warnings } = parseText(text);
    expect(warnings.map((w) => w.message)).toEqual(['config.toml:7: [[runners]][0].cache.Type: "gcs" is not supported by berth yet; the cache stays local']);
    expect(config.runners[0]!.cache.gcs).toMatchObject({ bucketName: 'b', privateKey: 'gcs-private-key' });
    expect(parseText(encodeConfig(config, {})).config).toEqual(config);
    const azure = parseText(`${RUNNER}  [runners.cache]\n    Type = "azure"\n    [runners.cache.azure]\n      AccountName = "a"\n`);
    expect(azure.warnings.map((w) => w.message)).toEqual(['config.toml:7: [[runners]][0].cache.Type: "azure" is not supported by berth yet; the cache stays local']);
  });

  it('warns about S3 without a bucket and an unknown encryption type', () => {
    const text = `${RUNNER}  [runners.cache]\n    Type = "s3"\n    [runners.cache.s3]\n      ServerSideEncryption = "rot13"\n`;
    expect(parseText(text).warnings.map((w) => w.message)).toEqual([
      'config.toml:8: [[runners]][0].cache.s3.BucketName is not set: set it to use the S3 cache; the cache stays local',
      'config.toml:9: [[runners]][0].cache.s3.ServerSideEncryption: "rot13" is not one of S3, KMS, DSSE-KMS; objects are not encrypted',
    ]);
  });

  it('names the key of a bad value, and never echoes a secret', () => {
    expect(errorOf(`${RUNNER}  [runners.cache]\n    MaxUploadedArchiveSize = -1\n`).message).toBe(
      'config.toml:7: [[runners]][0].cache.MaxUploadedArchiveSize: -1 is not allowed: use 0 or more',
    );
    expect(errorOf(`${RUNNER}  [runners.cache]\n    Shared = "yes"\n`).message).toBe('config.toml:7: [[runners]][0].cache.Shared: expected true or false, got "yes"');
    expect(errorOf(`${RUNNER}  [runners.cache]\n    Type = "s3"\n    [runners.cache.s3]\n      AuthenticationType = "password"\n`).message).toBe(
      'config.toml:9: [[runners]][0].cache.s3.AuthenticationType: "password" is not one of access-key, iam',
    );
    expect(errorOf(`${RUNNER}  [runners.cache.s3]\n    SecretKey = 123456789\n`).message).toBe('config.toml:7: [[runners]][0].cache.s3.SecretKey: expected a string');
    expect(errorOf(`${RUNNER}  [runners.cache.s3]\n    SessionToken = ["tok-123"]\n`).message).toBe('config.toml:7: [[runners]][0].cache.s3.SessionToken: expected a string');
  });

  it('accepts AuthenticationType in any case, as gitlab-runner does', () => {
    expect(parseText(`${RUNNER}  [runners.cache]\n    Type = "s3"\n    [runners.cache.s3]\n      BucketName = "b"\n      AuthenticationType = "IAM"\n`).warnings).toEqual([]);
  });
});

describe('berth register --cache-* flags', () => {
  const specs = registerFlagSpecs();
  const spec = (long: string): FlagSpec => specs.find((s) => s.long === long)!;

  it('has gitlab-runner\'s flag names and environment variables', () => {
    expect(spec('cache-type')).toMatchObject({ env: 'CACHE_TYPE', kind: 'string', target: { runner: ['cache', 'type'] } });
    expect(spec('cache-shared')).toMatchObject({ env: 'CACHE_SHARED', kind: 'bool' });
    expect(spec('cache-path').env).toBe('CACHE_PATH');
    expect(spec('cache-max_uploaded_archive_size').env).toBe('CACHE_MAXIMUM_UPLOADED_ARCHIVE_SIZE');
    expect(spec('cache-s3-server-address')).toMatchObject({ env: 'CACHE_S3_SERVER_ADDRESS', target: { runner: ['cache', 's3', 'serverAddress'] } });
    expect(spec('cache-s3-access-key').env).toBe('CACHE_S3_ACCESS_KEY');
    expect(spec('cache-s3-secret-key').env).toBe('CACHE_S3_SECRET_KEY');
    expect(spec('cache-s3-bucket-name').env).toBe('CACHE_S3_BUCKET_NAME');
    expect(spec('cache-s3-bucket-location').env).toBe('CACHE_S3_BUCKET_LOCATION');
    expect(spec('cache-s3-insecure')).toMatchObject({ env: 'CACHE_S3_INSECURE', kind: 'bool' });
    expect(spec('cache-s3-authentication_type').env).toBe('CACHE_S3_AUTHENTICATION_TYPE');
    expect(spec('cache-gcs-bucket-name').env).toBe('CACHE_GCS_BUCKET_NAME');
    expect(spec('cache-dir').target).toEqual({ runner: ['cacheDir'] });
    expect(parseFlagValue(spec('cache-type'), 'gcsv2', undefined)).toBe('gcsv2');
  });

  it('flags and environment become [runners.cache] and survive save and load', () => {
    const cli = new Map<string, unknown>([
      ['cache-type', 's3'],
      ['cache-shared', true],
      ['cache-s3-server-address', 'minio.test:9000'],
      ['cache-s3-bucket-name', 'runner-cache'],
      ['cache-s3-insecure', true],
    ]);
    const env = { CACHE_S3_ACCESS_KEY: 'AKIAEXAMPLE', CACHE_S3_SECRET_KEY: 'env-secret', CACHE_PATH: 'ci' };
    const { runner } = readRegisterInput(specs, (s) => cli.get(s.long), env);
    expect(runner.cache).toMatchObject({ type: 's3', shared: true, path: 'ci' });
    expect(runner.cache.s3).toMatchObject({ serverAddress: 'minio.test:9000', bucketName: 'runner-cache', insecure: true, accessKey: 'AKIAEXAMPLE', secretKey: 'env-secret' });
    expect(runner.cache.s3.pathStyle).toBeNull();

    const template = parseText(S3_CACHE).config.runners[0]!;
    const merged = mergeTemplate({ ...runner, name: 'r', url: 'https://gitlab.test', token: 'glrt-x', executor: 'docker' }, template);
    expect(merged.cache.s3).toMatchObject({ serverAddress: 'minio.test:9000', secretKey: 'env-secret', bucketLocation: 'eu-west-1', pathStyle: true });

    const config = { ...newConfig(), runners: [merged] };
    expect(parseText(encodeConfig(config, {})).config.runners[0]!.cache).toEqual(merged.cache);
  });
});
