/**
 * `[runners.cache]` and its `[runners.cache.s3]`, `[runners.cache.gcs]`, `[runners.cache.azure]`
 * tables: gitlab-runner's distributed cache (cache/cacheconfig/cacheconfig.go, key names and order
 * as there, register flags `--cache-*` with gitlab-runner's environment variables). berth uploads
 * to S3 only; GCS and Azure are parsed and saved, and a warning says the cache stays local
 * (check-cache-config.ts).
 */
import { bool, int, optBool, str, table, type Schema } from './schema.js';

export const cacheS3Schema = {
  serverAddress: str('ServerAddress', { flag: 'server-address', env: 'CACHE_S3_SERVER_ADDRESS', doc: 'host[:port] of an S3-compatible server (default: AWS)' }),
  accessKey: str('AccessKey', { flag: 'access-key', env: 'CACHE_S3_ACCESS_KEY', doc: 'S3 access key' }),
  secretKey: str('SecretKey', { flag: 'secret-key', env: 'CACHE_S3_SECRET_KEY', secret: true, doc: 'S3 secret key' }),
  sessionToken: str('SessionToken', { flag: 'session-token', env: 'CACHE_S3_SESSION_TOKEN', secret: true, doc: 'S3 session token' }),
  bucketName: str('BucketName', { flag: 'bucket-name', env: 'CACHE_S3_BUCKET_NAME', doc: 'Bucket the cache is stored in' }),
  bucketLocation: str('BucketLocation', { flag: 'bucket-location', env: 'CACHE_S3_BUCKET_LOCATION', doc: 'S3 region (default us-east-1)' }),
  insecure: bool('Insecure', { flag: 'insecure', env: 'CACHE_S3_INSECURE', doc: 'Use http instead of https' }),
  authenticationType: str('AuthenticationType', { flag: 'authentication_type', env: 'CACHE_S3_AUTHENTICATION_TYPE', doc: 'access-key or iam (default: access-key when ServerAddress, AccessKey and SecretKey are set)' }),
  serverSideEncryption: str('ServerSideEncryption', { flag: 'server-side-encryption', env: 'CACHE_S3_SERVER_SIDE_ENCRYPTION', doc: 'S3 (AES256), KMS (aws:kms) or DSSE-KMS' }),
  serverSideEncryptionKeyId: str('ServerSideEncryptionKeyID', { flag: 'server-side-encryption-key-id', env: 'CACHE_S3_SERVER_SIDE_ENCRYPTION_KEY_ID', doc: 'KMS key (alias, id or ARN)' }),
  dualStack: optBool('DualStack', { flag: 'dual-stack', env: 'CACHE_S3_DUAL_STACK', doc: 'Dual-stack AWS endpoints (default true)' }),
  pathStyle: optBool('PathStyle', { flag: 'path-style', env: 'CACHE_S3_PATH_STYLE', doc: 'Path-style URLs (default: auto, virtual-host only for AWS)' }),
  accelerate: bool('Accelerate', { flag: 'accelerate', env: 'CACHE_S3_ACCELERATE', doc: 'S3 Transfer Acceleration endpoint' }),
  roleArn: str('RoleARN', { flag: 'role-arn', env: 'CACHE_S3_ROLE_ARN', unused: true, doc: 'Role for cache transfers (not supported by berth)' }),
  uploadRoleArn: str('UploadRoleARN', { flag: 'upload-role-arn', env: 'CACHE_S3_UPLOAD_ROLE_ARN', unused: true, doc: 'Role for cache uploads (not supported by berth)' }),
  assumeRoleMaxConcurrency: int('AssumeRoleMaxConcurrency', { flag: 'assume-role-max-concurrency', env: 'CACHE_S3_ASSUME_ROLE_MAX_CONCURRENCY', unused: true, doc: 'Concurrent AssumeRole requests' }),
  disableAssumeRoleCredentialsCaching: bool('DisableAssumeRoleCredentialsCaching', { flag: 'disable-assume-role-credentials-caching', env: 'CACHE_S3_DISABLE_ASSUME_ROLE_CREDENTIALS_CACHING', unused: true, doc: 'No caching of AssumeRole credentials' }),
} satisfies Schema;

export const cacheGcsSchema = {
  accessId: str('AccessID', { flag: 'access-id', env: 'CACHE_GCS_ACCESS_ID', doc: 'GCP service account' }),
  privateKey: str('PrivateKey', { flag: 'private-key', env: 'CACHE_GCS_PRIVATE_KEY', secret: true, doc: 'Key that signs GCS requests' }),
  credentialsFile: str('CredentialsFile', { flag: 'credentials-file', env: 'GOOGLE_APPLICATION_CREDENTIALS', doc: 'File with GCP credentials' }),
  bucketName: str('BucketName', { flag: 'bucket-name', env: 'CACHE_GCS_BUCKET_NAME', doc: 'Bucket the cache is stored in' }),
  universeDomain: str('UniverseDomain', { flag: 'universe-domain', env: 'CACHE_GCS_UNIVERSE_DOMAIN', doc: 'Universe domain for GCS requests' }),
} satisfies Schema;

export const cacheAzureSchema = {
  accountName: str('AccountName', { flag: 'account-name', env: 'CACHE_AZURE_ACCOUNT_NAME', doc: 'Azure Blob Storage account' }),
  accountKey: str('AccountKey', { flag: 'account-key', env: 'CACHE_AZURE_ACCOUNT_KEY', secret: true, doc: 'Azure Blob Storage key' }),
  containerName: str('ContainerName', { flag: 'container-name', env: 'CACHE_AZURE_CONTAINER_NAME', doc: 'Container the cache is stored in' }),
  storageDomain: str('StorageDomain', { flag: 'storage-domain', env: 'CACHE_AZURE_STORAGE_DOMAIN', doc: 'Storage domain (blob.core.windows.net)' }),
} satisfies Schema;

export const cacheSchema = {
  // Any string, as in gitlab-runner: a type it has no adapter for (gcsv2, a typo) is logged and the
  // cache stays local (cache/adapter.go); check-cache-config.ts warns likewise.
  type: str('Type', { flag: 'type', env: 'CACHE_TYPE', doc: 'Distributed cache: s3 (gcs, gcsv2, azure and others are not supported by berth yet: the cache stays local)' }),
  path: str('Path', { flag: 'path', env: 'CACHE_PATH', doc: 'Prefix of the object names' }),
  shared: bool('Shared', { flag: 'shared', env: 'CACHE_SHARED', doc: 'Share the cache between runners (no runner/<token> prefix)' }),
  maxUploadedArchiveSize: int('MaxUploadedArchiveSize', { flag: 'max_uploaded_archive_size', env: 'CACHE_MAXIMUM_UPLOADED_ARCHIVE_SIZE', min: 0, doc: 'Largest archive uploaded, in bytes (0: no limit)' }),
  redactUrl: bool('RedactURL', { flag: 'redact-url', env: 'CACHE_REDACT_URL', doc: 'Redact cache URLs in job logs (berth never logs their query)' }),
  s3: table('s3', cacheS3Schema, { doc: 'S3 cache', flagPrefix: 's3-' }),
  gcs: table('gcs', cacheGcsSchema, { doc: 'Google Cloud Storage cache (not supported by berth yet)', flagPrefix: 'gcs-' }),
  azure: table('azure', cacheAzureSchema, { doc: 'Azure Blob Storage cache (not supported by berth yet)', flagPrefix: 'azure-' }),
} satisfies Schema;

export const cacheTable = table('cache', cacheSchema, { doc: 'Distributed cache', flagPrefix: 'cache-' });
