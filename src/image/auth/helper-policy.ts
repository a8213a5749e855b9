/**
 * Which credential helpers berth may run. A name is a bare suffix of `docker-credential-`:
 * a path separator is refused outright (CVE-2020-13347). Helpers named by a config the runner
 * administrator controls (runner environment, the home config file) are trusted; helpers named
 * in a job-supplied DOCKER_AUTH_CONFIG run only when `allowed_credential_helpers` lists them.
 * That is stricter than gitlab-runner on purpose: a job must not make the runner host execute
 * a program of its choosing, nor borrow credentials stored on the host.
 */
import { BerthError } from '../../shared/errors.js';

export class HelperNameError extends BerthError {
  constructor(
    readonly helper: string,
    readonly where: string,
  ) {
    super(
      'credential_helper_refused',
      `refusing credential helper "${helper}" named in ${where}: path traversal is not allowed ` +
        `(a helper name is the part after "docker-credential-", without any path)`,
    );
  }
}

/** Throws HelperNameError for names with a path separator, NUL, or `.`/`..`. */
export function checkHelperName(helper: string, where: string): void {
  if (/[/\\\0]/.test(helper) || helper === '.' || helper === '..' || !helper.trim()) {
    throw new HelperNameError(helper, where);
  }
}

export interface HelperTrust {
  /** The config comes from the runner administrator (runner environment or home file). */
  trusted: boolean;
  allowed: readonly string[];
}

export function helperAllowed(helper: string, trust: HelperTrust): boolean {
  return trust.trusted || trust.allowed.includes(helper);
}

export function helperNotAllowedReason(helper: string): string {
  return (
    `credential helper "${helper}" comes from a job variable and is not listed in ` +
    `[runners.docker] allowed_credential_helpers, so it was not run ` +
    `(berth is stricter than gitlab-runner here on purpose: a job cannot make the runner host ` +
    `execute a program of its choosing)`
  );
}
