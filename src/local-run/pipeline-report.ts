/**
 * The outcome of a `berth exec` run: the JSON report (`--report PATH`), the summary printed at
 * the end (one line per job), and the process exit code.
 */
import type { JunitSummary } from '../artifacts/junit-report.js';
import type { JobOutcome } from './pipeline-scheduler.js';

export interface ReportJob {
  name: string;
  stage: string;
  status: 'success' | 'failed' | 'skipped' | 'manual' | 'canceled';
  allowFailure: boolean;
  exitCode: number | null;
  failureReason: string | null;
  durationMs: number;
  /** How many times `retry:` ran the job again after a failure (the fields above are of its last run). */
  retries: number;
  /** Why a skipped job with `needs` did not run when nothing failed; null otherwise. */
  skipReason: string | null;
  /** The code coverage `coverage:` found in the job's log (percent), as GitLab records it; null: none. */
  coverage: number | null;
}

export interface PipelineReport {
  status: 'success' | 'failed';
  jobs: ReportJob[];
  /** Jobs of the file that rules, only/except or workflow left out, and the clause that did. */
  notInPipeline?: { name: string; reason: string }[];
  /** JUnit reports (artifacts:reports:junit) per job: counts and the first failed tests. */
  tests?: (JunitSummary & { job: string; problems: string[] })[];
}

export function buildReport(outcomes: readonly JobOutcome[], notInPipeline: readonly { name: string; reason: string }[] = []): PipelineReport {
  const jobs = outcomes.map((o) => ({
    name: o.job.name,
    stage: o.job.stage,
    status: o.status,
    allowFailure: o.status === 'failed' ? o.allowedToFail : o.job.allowFailure,
    exitCode: o.result?.exitCode ?? null,
    failureReason: o.result?.failureReason ?? null,
    durationMs: o.result?.durationMs ?? 0,
    retries: o.retries,
    skipReason: o.skipReason ?? null,
    coverage: null,
  }));
  const failed = outcomes.some((o) => (o.status === 'failed' && !o.allowedToFail) || o.status === 'canceled');
  const report: PipelineReport = { status: failed ? 'failed' : 'success', jobs };
  if (notInPipeline.length) report.notInPipeline = notInPipeline.map((s) => ({ name: s.name, reason: s.reason }));
  return report;
}

/** 0: every job passed or was allowed to fail; 1: a job failed. */
export function exitCodeOf(report: PipelineReport): number {
  return report.status === 'success' ? 0 : 1;
}

const LABELS: Record<ReportJob['status'] | 'allowed', { text: string; colour: number }> = {
  success: { text: 'PASS', colour: 32 },
  failed: { text: 'FAIL', colour: 31 },
  allowed: { text: 'WARN', colour: 33 },
  skipped: { text: 'SKIP', colour: 90 },
  manual: { text: 'MANUAL', colour: 90 },
  canceled: { text: 'CANCELED', colour: 31 },
};

export function formatSummary(report: PipelineReport, color: boolean): string {
  const out = report.notInPipeline ?? [];
  const width = Math.max(...report.jobs.map((j) => j.name.length), ...out.map((s) => s.name.length), 1);
  const lines = report.jobs.map((j) => {
    const key = j.status === 'failed' && j.allowFailure ? 'allowed' : j.status;
    const { text, colour } = LABELS[key];
    const label = text.padEnd(8);
    const detail = [
      `stage ${j.stage}`,
      j.status === 'failed' || j.status === 'canceled' ? describeFailure(j) : (j.skipReason ?? ''),
      j.retries ? `retried ${j.retries} ${j.retries === 1 ? 'time' : 'times'}` : '',
      j.coverage !== null ? `coverage ${j.coverage}%` : '',
      j.durationMs ? `${(j.durationMs / 1000).toFixed(2)}s` : '',
    ]
      .filter(Boolean)
      .join(', ');
    return `${color ? `\x1b[${colour}m${label}\x1b[0m` : label} ${j.name.padEnd(width)}  ${detail}`;
  });
  for (const s of out) {
    const label = LABELS.skipped.text.padEnd(8);
    lines.push(`${color ? `\x1b[${LABELS.skipped.colour}m${label}\x1b[0m` : label} ${s.name.padEnd(width)}  not in this pipeline: ${s.reason}`);
  }
  const verdict = report.status === 'success' ? 'Pipeline succeeded' : 'Pipeline failed';
  return `${lines.join('\n')}\n${color ? `\x1b[1m${verdict}\x1b[0m` : verdict}\n`;
}

function describeFailure(j: ReportJob): string {
  const code = j.exitCode !== null ? `exit code ${j.exitCode}` : '';
  // script_failure goes without saying next to an exit code; without one (an upload that failed) it is the only why.
  const reason = j.failureReason && (j.failureReason !== 'script_failure' || !code) ? j.failureReason : '';
  const allowed = j.allowFailure ? 'allowed to fail' : '';
  return [code, reason, allowed].filter(Boolean).join(', ');
}
