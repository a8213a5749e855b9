import { describe, expect, it } from 'vitest';
import { testJob } from '../../test/support/job-fixtures.js';
import { buildReport, exitCodeOf, formatSummary } from './pipeline-report.js';
import type { JobOutcome, SchedulableJob } from './pipeline-scheduler.js';

const job = (name: string, extra: Partial<SchedulableJob> = {}): SchedulableJob => ({
  name, stage: 'test', when: 'on_success', allowFailure: false, allowFailureExitCodes: [], needs: null, spec: testJob(), ...extra,
});
const result = (state: 'success' | 'failed', exitCode: number | null) => ({
  state, exitCode, failureReason: state === 'failed' ? ('script_failure' as const) : null, durationMs: 1500, message: null,
});

describe('pipeline report', () => {
  it('is a success with exit code 0 when failures were allowed', () => {
    const outcomes: JobOutcome[] = [
      { job: job('a'), status: 'success', allowedToFail: false, result: result('success', 0), retries: 0 },
      { job: job('b', { allowFailureExitCodes: [2] }), status: 'failed', allowedToFail: true, result: result('failed', 2), retries: 0 },
      { job: job('c'), status: 'skipped', allowedToFail: false, result: null, retries: 0 },
    ];
    const report = buildReport(outcomes);
    expect(report).toEqual({
      status: 'success',
      jobs: [
        { name: 'a', stage: 'test', status: 'success', allowFailure: false, exitCode: 0, failureReason: null, durationMs: 1500, retries: 0, skipReason: null, coverage: null },
        { name: 'b', stage: 'test', status: 'failed', allowFailure: true, exitCode: 2, failureReason: 'script_failure', durationMs: 1500, retries: 0, skipReason: null, coverage: null },
        { name: 'c', stage: 'test', status: 'skipped', allowFailure: false, exitCode: null, failureReason: null, durationMs: 0, retries: 0, skipReason: null, coverage: null },
      ],
    });
    expect(exitCodeOf(report)).toBe(0);
    expect(formatSummary(report, false)).toBe(
      'PASS     a  stage test, 1.50s\nWARN     b  stage test, exit code 2, allowed to fail, 1.50s\nSKIP     c  stage test\nPipeline succeeded\n',
    );
  });

  it('lists the jobs left out of the pipeline with the clause that left them out', () => {
    const report = buildReport(
      [{ job: job('a'), status: 'success', allowedToFail: false, result: result('success', 0), retries: 0 }],
      [{ name: 'deploy', reason: 'only:refs does not match ref "dev" (pipeline source push)' }, { name: 'nightly', reason: 'rules: no rule matched' }],
    );
    expect(report.notInPipeline).toEqual([
      { name: 'deploy', reason: 'only:refs does not match ref "dev" (pipeline source push)' },
      { name: 'nightly', reason: 'rules: no rule matched' },
    ]);
    expect(formatSummary(report, false)).toBe(
      'PASS     a        stage test, 1.50s\n' +
        'SKIP     deploy   not in this pipeline: only:refs does not match ref "dev" (pipeline source push)\n' +
        'SKIP     nightly  not in this pipeline: rules: no rule matched\n' +
        'Pipeline succeeded\n',
    );
  });

  it('says how many times retry: ran a job again', () => {
    const report = buildReport([{ job: job('flaky'), status: 'success', allowedToFail: false, result: result('success', 0), retries: 2 }]);
    expect(report.jobs[0]).toMatchObject({ status: 'success', retries: 2 });
    expect(formatSummary(report, false)).toContain('PASS     flaky  stage test, retried 2 times, 1.50s\n');
  });

  it('shows the coverage coverage: found, as GitLab shows it next to the job', () => {
    const report = buildReport([{ job: job('unit'), status: 'success', allowedToFail: false, result: result('success', 0), retries: 0 }]);
    report.jobs[0]!.coverage = 87.25;
    expect(formatSummary(report, false)).toContain('PASS     unit  stage test, coverage 87.25%, 1.50s\n');
  });

  it('is a failure with exit code 1 when a job failed for real', () => {
    const report = buildReport([{ job: job('a'), status: 'failed', allowedToFail: false, result: result('failed', 1), retries: 0 }]);
    expect(report.status).toBe('failed');
    expect(exitCodeOf(report)).toBe(1);
    expect(formatSummary(report, false)).toContain('FAIL     a  stage test, exit code 1, 1.50s\nPipeline failed');
  });

  it('says why a job with needs was skipped', () => {
    const report = buildReport([{ job: job('release'), status: 'skipped', allowedToFail: false, result: null, retries: 0, skipReason: 'needs the manual job "approve", which did not run (name it to run it)' }]);
    expect(report.jobs[0]!.skipReason).toBe('needs the manual job "approve", which did not run (name it to run it)');
    expect(formatSummary(report, false)).toContain('SKIP     release  stage test, needs the manual job "approve", which did not run (name it to run it)\n');
  });

  it('names the failure reason of a job that failed with no exit code (its script passed, an upload failed)', () => {
    const report = buildReport([{ job: job('a'), status: 'failed', allowedToFail: false, result: result('failed', null), retries: 0 }]);
    expect(formatSummary(report, false)).toContain('FAIL     a  stage test, script_failure, 1.50s\n');
  });
});
