/**
 * The code coverage of a job (`coverage:`), found in its log as GitLab finds it
 * (Gitlab::Ci::Trace::Stream#extract_coverage): the log's lines from the last to the first; in
 * the first line the pattern matches, the last match (its last group when the pattern has
 * groups) holds the figure, the first number in it (`\d+(\.\d+)?`). A line whose match holds no
 * number passes to the line before it; a last group that took no part in the match ends the
 * search without a figure (GitLab's scan then fails, and it records none).
 *
 * The pattern comes from the repository: a JavaScript regular expression can backtrack for
 * ever (GitLab uses RE2, which cannot), so the scan runs under a time limit that stops it
 * wherever it is (shared/bounded-regexp.ts), and only the log's last MAX_LOG_BYTES are read.
 */
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { errorMessage } from '../shared/errors.js';
import { RegExpTimeoutError, runWithin } from '../shared/bounded-regexp.js';
import { toJsRegExp } from '../pipeline/index.js';

/** Time for the scan of one job's log. */
export const COVERAGE_SCAN_MS = 2_000;

/** Bytes of a log read from its end (GitLab reads the whole trace; berth's logs are bounded by the output limit anyway). */
const MAX_LOG_BYTES = 16 * 1024 * 1024;

export type CoverageResult = { coverage: number | null } | { problem: string };

/** Runs in the vm context: text, source and flags are its globals. */
const SCAN = `(() => {
  const re = new RegExp(source, flags + 'g');
  const lines = text.split('\\n');
  for (let i = lines.length - 1; i >= 0; i--) {
    const line = lines[i].endsWith('\\r') ? lines[i].slice(0, -1) : lines[i];
    re.lastIndex = 0;
    let last = null;
    for (let m = re.exec(line); m !== null; m = re.exec(line)) {
      last = m;
      if (m[0] === '') re.lastIndex++;
    }
    if (last === null) continue;
    const held = last.length > 1 ? last[last.length - 1] : last[0];
    if (held === undefined) return null;
    const figure = /\\d+(\\.\\d+)?/.exec(held);
    if (figure !== null) return figure[0];
  }
  return null;
})()`;

/** The coverage `pattern` (as `coverage:` holds it) finds in `text`. */
export function coverageIn(text: string, pattern: string, timeoutMs = COVERAGE_SCAN_MS): CoverageResult {
  const re = toJsRegExp(pattern);
  if ('error' in re) return { problem: `berth cannot read the coverage regular expression /${pattern}/: ${re.error}` };
  try {
    const figure = runWithin(SCAN, { text, source: re.source, flags: re.flags }, timeoutMs, pattern, text.length);
    return { coverage: typeof figure === 'string' ? Number(figure) : null };
  } catch (err) {
    if (err instanceof RegExpTimeoutError) {
      return { problem: `the coverage regular expression /${pattern}/ took longer than ${timeoutMs / 1000} s on the job log; no coverage recorded` };
    }
    return { problem: `the coverage regular expression /${pattern}/ failed on the job log: ${errorMessage(err)}` };
  }
}

/** The coverage in the part of the log file at `path` from byte `start` (the job's last run). */
export async function coverageInLog(path: string, start: number, pattern: string): Promise<CoverageResult> {
  let text: string;
  try {
    // The file berth wrote under .berth/logs; never through a link put there since.
    const file = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      const size = (await file.stat()).size;
      const from = Math.max(start, size - MAX_LOG_BYTES);
      const buffer = Buffer.alloc(Math.max(0, size - from));
      await file.read(buffer, 0, buffer.length, from);
      text = buffer.toString('utf8');
    } finally {
      await file.close();
    }
  } catch (err) {
    return { problem: `the job log could not be read for its coverage: ${errorMessage(err)}` };
  }
  return coverageIn(text, pattern);
}

export interface JobCoverage {
  job: string;
  coverage: number | null;
  /** Why there is no figure when the scan could not run (a line for the end of the run). */
  problem: string | null;
}

/** The coverage of every job that ran and has `coverage:`, in the order given. */
export async function collectCoverage(
  jobs: readonly { name: string; pattern: string | null }[],
  lastRunLog: (job: string) => { path: string; start: number } | undefined,
): Promise<JobCoverage[]> {
  const out: JobCoverage[] = [];
  for (const { name, pattern } of jobs) {
    const log = pattern === null ? undefined : lastRunLog(name);
    if (pattern === null || !log) continue;
    const result = await coverageInLog(log.path, log.start, pattern);
    out.push('problem' in result ? { job: name, coverage: null, problem: result.problem } : { job: name, coverage: result.coverage, problem: null });
  }
  return out;
}
