/**
 * The container environment has kernel limits: Linux takes at most MAX_ARG_STRLEN (32 pages,
 * 128 KiB) per `KEY=VALUE` string and about 2 MiB for arguments and environment together
 * (ARG_MAX with the default 8 MiB stack). Past them the container's first process cannot
 * start ("exec /bin/sh: argument list too long") and the job would look like a script that
 * exited 1. Public variables go into that environment, so a job with a huge public variable
 * is stopped before its container is created, with a message that says what to change.
 */
import { JobFailure } from '../job/job-result.js';

/** Bytes of one `KEY=VALUE` string, its terminating NUL included. */
export const MAX_ENV_STRING_BYTES = 128 * 1024;
/** Bytes of the whole environment (strings, NULs and pointers), below the default ARG_MAX. */
export const MAX_ENV_TOTAL_BYTES = 2 * 1024 * 1024 - 64 * 1024;

export function checkContainerEnv(env: readonly string[], container: string): void {
  let total = 0;
  for (const entry of env) {
    const bytes = Buffer.byteLength(entry) + 1;
    total += bytes + 8;
    if (bytes > MAX_ENV_STRING_BYTES) {
      const key = entry.slice(0, Math.max(0, entry.indexOf('=')));
      throw tooBig(`variable ${key} is ${bytes - key.length - 2} bytes, more than the ${MAX_ENV_STRING_BYTES - 1} bytes Linux takes for one variable`, container);
    }
  }
  if (total > MAX_ENV_TOTAL_BYTES) {
    throw tooBig(`its public variables take ${total} bytes, more than the ${MAX_ENV_TOTAL_BYTES} bytes Linux takes for a whole environment`, container);
  }
}

function tooBig(what: string, container: string): JobFailure {
  return new JobFailure(
    'script_failure',
    `the ${container} cannot start: ${what} (its shell would fail with "argument list too long"). ` +
      'Public variables go into the container environment: pass a big value as a file variable, or as a non-public variable (berth exec --variable), which only the script gets',
  );
}
