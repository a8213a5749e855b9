/**
 * `berth exec --list`: a plain table (stage, job, when, needs, allow_failure) in stage order,
 * then the jobs left out of the pipeline and why. No colours.
 * NEEDS: "-" without needs (the job waits for earlier stages), "[]" for `needs: []`, a
 * trailing "?" marks an optional need.
 */
import type { Pipeline, PipelineJob } from '../pipeline.js';

const HEADER = ['STAGE', 'JOB', 'WHEN', 'NEEDS', 'ALLOW_FAILURE'];

export function formatJobList(pipeline: Pipeline): string {
  const stageIndex = (j: PipelineJob): number => pipeline.stages.indexOf(j.stage);
  const jobs = pipeline.jobs.map((j, i) => ({ j, i })).sort((a, b) => stageIndex(a.j) - stageIndex(b.j) || a.i - b.i);
  const rows = jobs.map(({ j }) => [j.stage, j.name, j.when, needsText(j), allowFailureText(j)]);
  let text = rows.length ? table([HEADER, ...rows]) : 'No jobs in this pipeline.\n';
  if (pipeline.skipped.length) {
    text += `\nNot in this pipeline:\n${table(pipeline.skipped.map((s) => [s.name, s.reason]), '  ')}`;
  }
  return text;
}

function needsText(job: PipelineJob): string {
  if (job.needs === null) return '-';
  if (job.needs.length === 0) return '[]';
  return job.needs.map((n) => (n.optional ? `${n.job}?` : n.job)).join(', ');
}

function allowFailureText(job: PipelineJob): string {
  if (job.allowFailureExitCodes.length) return `exit codes ${job.allowFailureExitCodes.join(', ')}`;
  return String(job.allowFailure);
}

function table(rows: string[][], indent = ''): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows
    .map((r) => indent + r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]! + 2))).join('').trimEnd())
    .join('\n') + '\n';
}
