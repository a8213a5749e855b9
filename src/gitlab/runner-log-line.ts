/**
 * One log line of a gitlab-runner helper command (artifacts-uploader, artifacts-downloader) as
 * its logrus RunnerTextFormatter renders it (gitlab-runner log/runner_formatter.go): the message
 * padded to 50 characters minus the level prefix ("WARNING: ", "ERROR: "; none for info), one
 * space, then ` key=value` per field, keys sorted. So a long message is followed by two spaces:
 *
 *   Uploading artifacts as "archive" to coordinator... 201 Created  correlation_id=1f0c id=42 status=201 token=abcdefghi
 *
 * The level prefix itself is added by the JobLog (warning(), error()). Field values must already
 * be safe to print (short tokens only).
 */
import type { JobLog } from '../log/job-log.js';
import { formatGoDuration } from '../shared/go-duration.js';

export type LogFields = Record<string, string | number>;
export type LogLevel = 'info' | 'warning' | 'error';

const PREFIX: Record<LogLevel, string> = { info: '', warning: 'WARNING: ', error: 'ERROR: ' };

/** The line without its level prefix (and without colours). */
export function runnerLogLine(level: LogLevel, message: string, fields: LogFields = {}): string {
  const padded = message.padEnd(50 - PREFIX[level].length);
  const keys = Object.keys(fields).sort();
  return `${padded} ${keys.map((k) => ` ${k}=${fields[k]}`).join('')}`.trimEnd();
}

/** Writes the line on the job log at its level. */
export function logRunnerLine(log: JobLog, level: LogLevel, message: string, fields: LogFields = {}): void {
  const line = runnerLogLine(level, message, fields);
  if (level === 'warning') log.warning(line);
  else if (level === 'error') log.error(line);
  else log.println(line);
}

/**
 * The line gitlab-runner's API retry (network/retry_requester.go) prints in the helper's output
 * before it waits, e.g. after a 429 with `Retry-After: 7`:
 *
 *   Waiting before making the next call                 context=ratelimit-requester-gitlab-request duration=7s method=POST url=https://gitlab.example.com/api/v4/jobs/42/artifacts?artifact_type=archive
 *
 * `url` without userinfo; without its query when `withQuery` is false (a presigned object storage
 * URL carries its signature there).
 */
export function logApiRetry(log: JobLog, method: string, wait: { waitMs: number; url: URL }, withQuery = true): void {
  const u = wait.url;
  const url = `${u.origin}${u.pathname}${withQuery ? u.search : ''}`;
  logRunnerLine(log, 'info', 'Waiting before making the next call', {
    context: 'ratelimit-requester-gitlab-request',
    duration: formatGoDuration(wait.waitMs),
    method,
    url,
  });
}
