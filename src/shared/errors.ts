/**
 * Every code a BerthError may carry, by area. A new error adds its code here, so the list of
 * what berth can fail with stays in one place (and `code` is never a free string).
 */
export type ErrorCode =
  // user input: flags, config.toml, .gitlab-ci.yml (commander reports its own usage errors)
  | 'input_error'
  // config.toml and the runner's files
  | 'config_read'
  | 'config_save'
  | 'config_reload'
  | 'system_id'
  // the Docker engine
  | 'engine_error'
  | 'engine_unavailable'
  // images, pull policies and registry credentials
  | 'image_ref_invalid'
  | 'pull_policy_invalid'
  | 'pull_failed'
  | 'docker_config_invalid'
  | 'credential_helper_refused'
  | 'credential_helper_failed'
  // GitLab
  | 'gitlab_api_error'
  | 'gitlab_unreachable'
  | 'tls_ca_file_unreadable'
  | 'job_payload_invalid'
  | 'register_failed'
  | 'verify_failed'
  | 'unregister_failed'
  | 'artifact_upload_failed'
  | 'artifact_too_large'
  | 'artifact_download_failed'
  // jobs: a failure with one of GitLab's failure reasons
  | 'job_failure'
  // the runner's cache stores
  | 'cache_error'
  // cache keys and report artifacts (dotenv, gzip report streams)
  | 'cache_key_invalid'
  | 'dotenv_report_invalid'
  | 'gzip_stream_invalid'
  | 'junit_report_invalid'
  // sources and .gitlab-ci.yml
  | 'git_error'
  | 'include_fetch_failed'
  | 'unsafe_source_path'
  | 'expression_syntax'
  | 'shell_expand_error'
  // artifacts and cache (berth exec's local store)
  | 'artifacts_error'
  // archives (artifacts and cache): unsafe, corrupt or unwritable
  | 'archive_error'
  // a job prepared ahead of its turn (berth exec) whose container was removed or stopped from outside
  | 'prewarm_lost'
  // HTTP_PROXY, HTTPS_PROXY: a proxy berth cannot use
  | 'proxy_invalid';

/**
 * The one base error of berth. Every error that reaches a user carries a stable `code`,
 * a message that says what failed, on what, and what to do, and the standard `cause`.
 * Messages never contain colour codes or secrets; printing happens once, at the CLI top level.
 */
export class BerthError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Bad user input: a flag, config.toml, .gitlab-ci.yml. Names the file and line or key. */
export class InputError extends BerthError {
  readonly file: string | undefined;
  readonly line: number | undefined;
  readonly key: string | undefined;

  constructor(
    message: string,
    where: { file?: string; line?: number; key?: string } = {},
    options?: { cause?: unknown },
  ) {
    super('input_error', message, options);
    this.file = where.file;
    this.line = where.line;
    this.key = where.key;
  }
}

/** Returns the message of anything thrown, without stack. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** True when the error (or one of its causes) is an AbortError from an AbortSignal. */
export function isAbortError(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; e && depth < 10; depth++) {
    if (e instanceof Error && (e.name === 'AbortError' || (e as { code?: unknown }).code === 'ABORT_ERR')) {
      return true;
    }
    e = e instanceof Error ? e.cause : undefined;
  }
  return false;
}

/**
 * What gitlab-runner's helper prints as its FATAL line when a transfer failed this way (an error
 * may carry it as `helperFatal`: `too large`, `permission denied`, `file does not exist`), or null.
 */
export function helperFatalOf(err: unknown): string | null {
  const fatal = (err as { helperFatal?: unknown } | null)?.helperFatal;
  return typeof fatal === 'string' && fatal !== '' ? fatal : null;
}
