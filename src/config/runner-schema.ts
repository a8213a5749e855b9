/**
 * One `[[runners]]` entry (gitlab-runner's RunnerConfig, RunnerCredentials and RunnerSettings, in
 * gitlab-runner's key order) and the global keys of config.toml.
 */
import { cacheTable } from './cache-schema.js';
import { dockerTable } from './docker-schema.js';
import {
  bool,
  boolMap,
  datetime,
  duration,
  enumOf,
  int,
  optBool,
  optTable,
  str,
  strList,
  strMap,
  table,
  tableArray,
  type Schema,
} from './schema.js';

const MINUTE = 60_000;

export const runnerSchema = {
  name: str('name', { flag: 'description', env: 'RUNNER_NAME', always: true, doc: 'Name of this runner (local only)' }),
  limit: int('limit', { flag: 'limit', env: 'RUNNER_LIMIT', min: 0, doc: 'Jobs this runner may run at once (0: no limit)' }),
  outputLimit: int('output_limit', { flag: 'output-limit', env: 'RUNNER_OUTPUT_LIMIT', default: 4096, defaultWhen: 'nonPositive', doc: 'Job log size limit in KiB' }),
  requestConcurrency: int('request_concurrency', { flag: 'request-concurrency', env: 'RUNNER_REQUEST_CONCURRENCY', default: 1, defaultWhen: 'nonPositive', doc: 'Job requests in flight at once' }),
  strictCheckInterval: bool('strict_check_interval', { flag: 'strict-check-interval', env: 'RUNNER_STRICT_CHECK_INTERVAL', pointer: true, doc: 'Do not poll again at once after receiving a job' }),
  unhealthyRequestsLimit: int('unhealthy_requests_limit', { flag: 'unhealthy-requests-limit', env: 'RUNNER_UNHEALTHY_REQUESTS_LIMIT', default: 3, defaultWhen: 'nonPositive', doc: 'Failed job requests before the runner pauses' }),
  unhealthyInterval: duration('unhealthy_interval', { flag: 'unhealthy-interval', env: 'RUNNER_UNHEALTHY_INTERVAL', default: 60 * MINUTE, pointer: true, doc: 'How long an unhealthy runner pauses' }),
  jobStatusFinalUpdateRetryLimit: int('job_status_final_update_retry_limit', { flag: 'job-status-final-update-retry-limit', env: 'RUNNER_job_status_final_update_retry_limit', default: 10, defaultWhen: 'nonPositive', doc: 'Attempts to send the final job status' }),
  experimental: optTable('experimental', { unused: true, doc: 'gitlab-runner\'s experimental per-runner features (boot_verify)' }),
  url: str('url', { flag: 'url', short: 'u', env: 'CI_SERVER_URL', always: true, doc: 'GitLab URL ($VAR expanded)' }),
  id: int('id', { always: true, doc: 'GitLab runner id' }),
  token: str('token', { flag: 'token', short: 't', env: 'CI_SERVER_TOKEN', always: true, secret: true, doc: 'Runner authentication token ($VAR expanded)' }),
  tokenObtainedAt: datetime('token_obtained_at', { always: true, doc: 'When the token was obtained' }),
  tokenExpiresAt: datetime('token_expires_at', { always: true, doc: 'When the token expires' }),
  tlsCaFile: str('tls-ca-file', { flag: 'tls-ca-file', env: 'CI_SERVER_TLS_CA_FILE', doc: 'CA certificates for GitLab' }),
  tlsCertFile: str('tls-cert-file', { flag: 'tls-cert-file', env: 'CI_SERVER_TLS_CERT_FILE', doc: 'Client certificate for GitLab' }),
  tlsKeyFile: str('tls-key-file', { flag: 'tls-key-file', env: 'CI_SERVER_TLS_KEY_FILE', secret: true, doc: 'Client key for GitLab' }),
  labels: strMap('labels', { doc: 'Labels sent to GitLab' }),
  executor: str('executor', { flag: 'executor', env: 'RUNNER_EXECUTOR', always: true, doc: 'Must be "docker"' }),
  buildsDir: str('builds_dir', { flag: 'builds-dir', env: 'RUNNER_BUILDS_DIR', doc: 'Builds directory in the container (default /builds)' }),
  cacheDir: str('cache_dir', { flag: 'cache-dir', env: 'RUNNER_CACHE_DIR', doc: 'Cache directory in the container (default /cache)' }),
  cloneUrl: str('clone_url', { flag: 'clone-url', env: 'CLONE_URL', doc: 'URL to clone from instead of GitLab' }),
  environment: strList('environment', { flag: 'env', env: 'RUNNER_ENV', doc: 'Variables "KEY=value" placed before the job variables' }),
  proxyExec: optBool('proxy_exec', { flag: 'proxy-exec', env: 'RUNNER_PROXY_EXEC', unused: true, doc: 'gitlab-runner: proxy execution through its helper binary' }),
  preGetSourcesScript: str('pre_get_sources_script', { flag: 'pre-get-sources-script', env: 'RUNNER_PRE_GET_SOURCES_SCRIPT', doc: 'Script before fetching sources' }),
  postGetSourcesScript: str('post_get_sources_script', { flag: 'post-get-sources-script', env: 'RUNNER_POST_GET_SOURCES_SCRIPT', doc: 'Script after fetching sources' }),
  preBuildScript: str('pre_build_script', { flag: 'pre-build-script', env: 'RUNNER_PRE_BUILD_SCRIPT', doc: 'Script before the job script' }),
  postBuildScript: str('post_build_script', { flag: 'post-build-script', env: 'RUNNER_POST_BUILD_SCRIPT', doc: 'Script after the job script' }),
  debugTraceDisabled: bool('debug_trace_disabled', { flag: 'debug-trace-disabled', env: 'RUNNER_DEBUG_TRACE_DISABLED', doc: 'Ignore CI_DEBUG_TRACE' }),
  prepareTimeout: duration('prepare_timeout', { flag: 'prepare-timeout', env: 'RUNNER_PREPARE_TIMEOUT', doc: 'Bound of the prepare stage (pulls, services, build container, sources); unset, 0 or over the job timeout: the job timeout' }),
  getSourcesTimeout: duration('get_sources_timeout', { flag: 'get-sources-timeout', env: 'RUNNER_GET_SOURCES_TIMEOUT', unused: true, doc: 'get_sources stage timeout' }),
  safeDirectoryCheckout: optBool('safe_directory_checkout', { flag: 'safe-directory-checkout', env: 'RUNNER_SAFE_DIRECTORY_CHECKOUT', unused: true, doc: 'git safe.directory for the checkout' }),
  cleanGitConfig: optBool('clean_git_config', { flag: 'clean-git-config', env: 'RUNNER_CLEAN_GIT_CONFIG', unused: true, doc: 'Clean git config around the job' }),
  shell: enumOf('shell', ['bash', 'sh', 'pwsh', 'powershell', 'cmd'], { flag: 'shell', env: 'RUNNER_SHELL', doc: 'Shell of the job script' }),
  customBuildDir: table(
    'custom_build_dir',
    { enabled: optBool('enabled', { flag: 'enabled', env: 'CUSTOM_BUILD_DIR_ENABLED', doc: 'Allow GIT_CLONE_PATH' }) },
    { doc: 'Custom build directories', flagPrefix: 'custom_build_dir-' },
  ),
  referees: optTable('referees', { unused: true, doc: 'gitlab-runner\'s job metrics referees' }),
  cache: cacheTable,
  artifact: table(
    'artifact',
    {
      uploadTimeout: duration('upload_timeout', { doc: 'Bound of one artifact upload try (default 1h)' }),
      responseHeaderTimeout: duration('response_header_timeout', { doc: 'Wait for the answer\'s headers once an artifact is sent (default 10m)' }),
    },
    { doc: 'Artifact uploads' },
  ),
  featureFlags: boolMap('feature_flags', { flag: 'feature-flags', env: 'FEATURE_FLAGS', doc: 'FF_* feature flags' }),
  monitoring: optTable('monitoring', { unused: true, doc: 'gitlab-runner\'s per-runner monitoring (job_queuing_durations)' }),
  useSlotCgroups: bool('use_slot_cgroups', { flag: 'use-slot-cgroups', env: 'RUNNER_USE_SLOT_CGROUPS', unused: true, doc: 'gitlab-runner: slot-derived cgroup names' }),
  slotCgroupTemplate: str('slot_cgroup_template', { flag: 'slot-cgroup-template', env: 'RUNNER_SLOT_CGROUP_TEMPLATE', unused: true, doc: 'gitlab-runner: template of slot cgroup names' }),
  docker: dockerTable,
  stepRunnerImage: str('step_runner_image', { flag: 'step-runner-image', env: 'STEP_RUNNER_IMAGE', unused: true, doc: 'gitlab-runner: step-runner image (berth runs no steps)' }),
} satisfies Schema;

export const LOG_FORMATS = ['runner', 'text', 'json'] as const;

export const sessionServerSchema = {
  listenAddress: str('listen_address', { unused: true, doc: 'Interactive web terminal address (not supported)' }),
  advertiseAddress: str('advertise_address', { unused: true, doc: 'Advertised terminal address (not supported)' }),
  sessionTimeout: int('session_timeout', { default: 1800, always: true, doc: 'Terminal session timeout in seconds' }),
} satisfies Schema;

export const globalSchema = {
  listenAddress: str('listen_address', { doc: 'Metrics server address host:port' }),
  sessionServer: table('session_server', sessionServerSchema, { doc: 'Web terminal server (parsed, not used)' }),
  labels: strMap('labels', { doc: 'Labels for every runner' }),
  concurrent: int('concurrent', { default: 1, always: true, min: 1, doc: 'Jobs running at once across all runners' }),
  checkInterval: int('check_interval', { default: 3, always: true, defaultWhen: 'nonPositive', doc: 'Seconds between job requests' }),
  logLevel: str('log_level', { doc: 'Log level, as logrus reads it (any case; trace, debug, info, warn(ing), error, fatal, panic): see log-level.ts' }),
  logFormat: enumOf('log_format', LOG_FORMATS, { doc: 'Log format (default runner)' }),
  user: str('user', { unused: true, doc: 'User for the shell executor' }),
  runners: tableArray('runners', runnerSchema, { doc: 'The runners' }),
  sentryDsn: str('sentry_dsn', { unused: true, doc: 'Sentry DSN' }),
  connectionMaxAge: duration('connection_max_age', { default: 15 * MINUTE, pointer: true, doc: 'Maximum age of a connection to GitLab' }),
  machine: optTable('machine', { unused: true, doc: 'gitlab-runner\'s docker+machine settings' }),
  experimental: optTable('experimental', { unused: true, doc: 'gitlab-runner\'s experimental features (usage_logger)' }),
  shutdownTimeout: int('shutdown_timeout', { default: 30, always: true, defaultWhen: 'nonPositive', doc: 'Seconds a forced shutdown may take' }),
} satisfies Schema;
