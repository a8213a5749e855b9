/** A job's trace as the GitLab test server stored it, as text: without colours and without gitlab-runner's FF_TIMESTAMPS line prefixes. */
import { stripAnsi } from '../../src/shared/ansi.js';

/** `2021-01-01T01:00:00.020010Z 01O ` at the start of a line (src/log/timestamper.ts). */
export const TIMESTAMP_PREFIX = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z [0-9a-f]{2}[OE][ +]/gm;

export function traceText(job: { trace: Buffer }): string {
  return stripAnsi(job.trace.toString('utf8')).replace(TIMESTAMP_PREFIX, '');
}
