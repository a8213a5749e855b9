/**
 * The JUnit reports (`artifacts:reports:junit`) the jobs of a `berth exec` run stored, read back
 * and summarised per job for the end of the run and for `--report` (GitLab shows the same counts
 * in a pipeline's "Tests" tab). An unreadable report is a line in the summary, not a failure.
 */
import { readGzipMembers } from '../artifacts/gzip-members.js';
import { formatJunitSummary, mergeJunitSummaries, parseJunitReports, type JunitSummary } from '../artifacts/junit-report.js';
import { errorMessage } from '../shared/errors.js';
import type { LocalArtifactStore } from './local-artifact-store.js';

export interface JobTestResults {
  job: string;
  summary: JunitSummary;
  /** Reports that could not be read, with why. */
  problems: string[];
}

/** Largest uncompressed JUnit report read back (GitLab's parser has its own limits). */
const MAX_JUNIT_BYTES = 100 * 1024 * 1024;

export async function collectJunitResults(store: LocalArtifactStore, jobs: readonly string[]): Promise<JobTestResults[]> {
  const out: JobTestResults[] = [];
  for (const job of jobs) {
    const stored = await store.read(job);
    const reports = stored?.artifacts.filter((a) => a.type === 'junit') ?? [];
    if (reports.length === 0) continue;
    const summaries: JunitSummary[] = [];
    const problems: string[] = [];
    for (const report of reports) {
      const path = await store.pathOf(job, report);
      if (!path) continue;
      try {
        const members = await readGzipMembers(path, { maxUncompressedBytes: MAX_JUNIT_BYTES, name: report.filename });
        const summary = parseJunitReports(members, report.filename);
        if (summary.suiteError) problems.push(`${report.filename}: ${summary.suiteError}`);
        summaries.push(summary);
      } catch (err) {
        problems.push(`${report.filename}: ${errorMessage(err)}`);
      }
    }
    out.push({ job, summary: mergeJunitSummaries(summaries), problems });
  }
  return out;
}

export function formatJunitResults(results: readonly JobTestResults[]): string {
  if (results.length === 0) return '';
  const lines = formatJunitSummary(results.map((r) => ({ job: r.job, summary: r.summary })));
  for (const r of results) for (const p of r.problems) lines.push(`${r.job}: JUnit report not read: ${p}`);
  return `\nTest reports:\n${lines.map((l) => `  ${l}`).join('\n')}\n`;
}
