/**
 * TraceUploader: the sink of a `berth run` job log. It is a ByteWriter (`new JobLog(uploader,
 * { filter: createMaskingFilter(...) })`) that buffers the trace on disk (TraceBuffer: UTF-8
 * repair, output limit, CRC-32) and streams it to GitLab the way gitlab-runner's
 * network/trace.go does:
 *
 * - every update interval (3 s; GitLab's `X-GitLab-Trace-Update-Interval` replaces it, capped
 *   at 15 min) one PATCH of at most 1 MiB from the last acknowledged offset, never cutting a
 *   UTF-8 character; 202 advances past the patch (its `Range` is not read), 416 rewinds to the
 *   end of GitLab's `Range` (to 0 without one), 404 and failures are tried again next interval;
 * - when nothing was sent for 30 s, a keep-alive `PUT state=running` with checksum and size;
 * - `Job-Status: canceling` → `cancelSignal` aborts and `onCancelRequested` runs (once):
 *   stop the script, still run after_script;
 * - `Job-Status: canceled|failed`, or a 403 → `abortSignal` aborts and `onAbort` runs (once):
 *   stop everything. The abort reason is a JobFailure, so runJob reports it as such.
 *
 * Use:
 *   const up = new TraceUploader({ api: client, job: { url, id, token }, outputLimitKiB,
 *     supportedFailureReasons: job.features.failureReasons });
 *   const log = new JobLog(up, { traceSections: job.features.traceSections, filter: createMaskingFilter(
 *     { phrases: maskPhrasesForJob(job), tokenPrefixes: job.features.tokenMaskPrefixes }) });
 *   up.start();
 *   const result = await runJob({ job, executor, log, runner, cancel: up.cancelSignal, abort: up.abortSignal });
 *   const outcome = await up.finish(result);   // flush everything, then the final PUT
 *   up.close();
 *
 * finish() sends every remaining byte, then `PUT state=success|failed` (+ failure_reason mapped
 * against the job's features.failure_reasons, exit_code, output checksum/bytesize), and retries
 * as gitlab-runner does: 202 → wait the update interval and PUT again; 412 → resend the whole
 * trace from offset 0, then PUT again; other failures → backoff from 1 s (×2, at most 60 min),
 * at most `finalUpdateRetryLimit` (10) tries. It never throws.
 */
import { JobFailure, type JobResult } from '../job/job-result.js';
import type { ByteWriter } from '../log/byte-writer.js';
import { errorMessage } from '../shared/errors.js';
import { type Clock, systemClock } from './clock.js';
import type { ApiLog } from './api-caller.js';
import type { JobRef, JobResultsApi, PatchTraceResult, UpdateJobResult } from './job-api.js';
import { TraceBuffer } from './trace-buffer.js';
import { DEFAULT_OUTPUT_LIMIT_KIB } from '../log/output-limit.js';
import { incompleteTailLength } from './utf8-repair.js';

export const DEFAULT_UPDATE_INTERVAL_MS = 3_000;
export const MAX_UPDATE_INTERVAL_MS = 15 * 60_000;
/**
 * A silent job is "touched" (keep-alive PUT, which also brings back GitLab's Job-Status) after
 * 4 update intervals, between 3 s and 30 s: 12 s by default. gitlab-runner waits at least 30 s,
 * so a cancel of a job that prints nothing took that long to arrive; berth notices it sooner.
 */
export const FORCE_SEND_INTERVAL_MS = 30_000;
const MIN_FORCE_SEND_INTERVAL_MS = 3_000;
export const MAX_PATCH_BYTES = 1024 * 1024;
export const DEFAULT_FINAL_UPDATE_RETRY_LIMIT = 10;
const FINAL_BACKOFF_MIN_MS = 1_000;
const FINAL_BACKOFF_MAX_MS = 60 * 60_000;
/** 202 answers to the final PUT are waited out at most this many times (≈ 5 min at 3 s). */
const MAX_ACCEPTED_WAITS = 100;

/** A patch that was not sent: nothing new (succeeded) or the trace file could not be read (failed). */
function localResult(outcome: 'succeeded' | 'failed', offset: number, message?: string): PatchTraceResult {
  return {
    status: 0,
    outcome,
    newOffset: offset,
    rangeEnd: null,
    jobStatus: null,
    updateIntervalSeconds: null,
    cancelRequested: false,
    ...(message ? { message } : {}),
  };
}

export interface TraceUploaderOptions {
  api: JobResultsApi;
  job: JobRef;
  /** `output_limit` in KiB; 0 or absent → 4096. */
  outputLimitKiB?: number;
  /** The job's `features.failure_reasons`. */
  supportedFailureReasons?: readonly string[];
  /** `job_status_final_update_retry_limit`; default 10. */
  finalUpdateRetryLimit?: number;
  debugTrace?: boolean;
  onCancelRequested?: () => void;
  onAbort?: (reason: JobFailure) => void;
  log?: Pick<ApiLog, 'debug' | 'warn'>;
  clock?: Clock;
  /** Temp directory of the trace file. */
  tmpDir?: string;
  /** Tests only: shorter cadences. */
  updateIntervalMs?: number;
  forceSendIntervalMs?: number;
  maxPatchBytes?: number;
}

/** A canceled job is reported as failed (GitLab's PUT knows running, success and failed). */
type ReportedState = Pick<JobResult, 'failureReason' | 'exitCode'> & { state: JobResult['state'] | 'running' };

export interface FinishOutcome {
  /** accepted: GitLab took the final state; aborted: 403/404/Job-Status canceled|failed; gave-up: retries exhausted. */
  status: 'accepted' | 'aborted' | 'gave-up';
  /** Final PUT attempts made. */
  attempts: number;
  checksum: string;
  bytesize: number;
  /** A trace file write error (e.g. ENOSPC): the trace is incomplete. */
  traceError: string | null;
}

export class TraceUploader implements ByteWriter {
  private readonly buffer: TraceBuffer;
  private readonly clock: Clock;
  private readonly cancelCtl = new AbortController();
  private readonly abortCtl = new AbortController();
  private readonly loopStop = new AbortController();
  private readonly defaultInterval: number;
  private readonly forceSendOverride: number | undefined;
  private readonly maxPatch: number;
  private interval: number;
  private sentOffset = 0;
  private sentTime: number;
  private loop: Promise<void> | null = null;
  private finishing = false;
  private finished: Promise<FinishOutcome> | null = null;

  constructor(private readonly opts: TraceUploaderOptions) {
    const kib = opts.outputLimitKiB && opts.outputLimitKiB > 0 ? opts.outputLimitKiB : DEFAULT_OUTPUT_LIMIT_KIB;
    this.buffer = new TraceBuffer({ limitBytes: kib * 1024, ...(opts.tmpDir ? { dir: opts.tmpDir } : {}) });
    this.clock = opts.clock ?? systemClock;
    this.defaultInterval = opts.updateIntervalMs ?? DEFAULT_UPDATE_INTERVAL_MS;
    this.interval = this.defaultInterval;
    this.forceSendOverride = opts.forceSendIntervalMs;
    this.maxPatch = Math.max(4, opts.maxPatchBytes ?? MAX_PATCH_BYTES);
    this.sentTime = this.clock.now();
  }

  /** Aborts on `Job-Status: canceling` (graceful cancel: after_script still runs). */
  get cancelSignal(): AbortSignal {
    return this.cancelCtl.signal;
  }

  /** Aborts on `Job-Status: canceled|failed` or a 403; the reason is a JobFailure. */
  get abortSignal(): AbortSignal {
    return this.abortCtl.signal;
  }

  /** Bytes in the trace so far (after UTF-8 repair and the output limit). */
  get bytesize(): number {
    return this.buffer.size;
  }

  checksum(): string {
    return this.buffer.checksum();
  }

  /** The acknowledged offset: GitLab has every byte before it. */
  get acknowledged(): number {
    return this.sentOffset;
  }

  /**
   * `PUT state=running` with no output, before the job runs: gitlab-runner sends it as soon as it
   * took the job (commands/multi.go requestJob) and runs nothing when the answer is an abort
   * (403, 404, `Job-Status: canceled|failed`) or a cancel (`Job-Status: canceling`). Any other
   * answer, or none (also when `signal` aborts it), lets the job run. The caller decides; this
   * only applies the update interval.
   */
  async announceRunning(signal?: AbortSignal): Promise<UpdateJobResult> {
    const r = await this.opts.api.updateJob(this.opts.job, { state: 'running', output: { checksum: '', bytesize: 0 } }, signal);
    this.applyInterval(r);
    if (r.outcome === 'succeeded') this.sentTime = this.clock.now();
    return r;
  }

  /** Starts the periodic upload. */
  start(): void {
    this.loop ??= this.runLoop();
  }

  write(chunk: Buffer): void {
    this.buffer.append(chunk);
  }

  /** The job log ended; the upload goes on until finish(). */
  end(): void {}

  /** Flushes the trace and reports the final state; a second call returns the first one's outcome. */
  finish(result: Pick<JobResult, 'state' | 'failureReason' | 'exitCode'>): Promise<FinishOutcome> {
    this.finished ??= this.finalUpdate(result);
    return this.finished;
  }

  private async finalUpdate(result: Pick<JobResult, 'state' | 'failureReason' | 'exitCode'>): Promise<FinishOutcome> {
    this.finishing = true;
    this.loopStop.abort();
    await this.loop;
    this.buffer.finish();
    this.interval = this.defaultInterval;
    const limit = this.opts.finalUpdateRetryLimit ?? DEFAULT_FINAL_UPDATE_RETRY_LIMIT;
    let failures = 0;
    let accepted = 0;
    let attempts = 0;
    const outcome = (status: FinishOutcome['status']): FinishOutcome => ({
      status,
      attempts,
      checksum: this.buffer.checksum(),
      bytesize: this.buffer.size,
      traceError: this.buffer.writeError ? errorMessage(this.buffer.writeError) : null,
    });
    for (;;) {
      await this.sendAll(limit);
      attempts++;
      const r = await this.putState(result);
      if (r.outcome === 'succeeded') return outcome('accepted');
      if (r.outcome === 'abort') return outcome('aborted');
      if (r.outcome === 'accepted') {
        if (++accepted > MAX_ACCEPTED_WAITS) return outcome('gave-up');
        await this.clock.sleep(this.interval);
        continue;
      }
      if (++failures >= limit) return outcome('gave-up');
      if (r.outcome === 'trace-validation-failed') {
        this.opts.log?.warn('Trace validation failed; sending the whole trace again', { job: this.opts.job.id });
        this.sentOffset = 0;
        await this.clock.sleep(this.interval);
      } else {
        await this.clock.sleep(Math.min(FINAL_BACKOFF_MAX_MS, FINAL_BACKOFF_MIN_MS * 2 ** (failures - 1)));
      }
    }
  }

  /** Closes the trace file. Call after finish(). */
  close(): void {
    this.loopStop.abort();
    this.buffer.close();
  }

  private get forceSendInterval(): number {
    return this.forceSendOverride ?? Math.min(FORCE_SEND_INTERVAL_MS, Math.max(MIN_FORCE_SEND_INTERVAL_MS, 4 * this.interval));
  }

  private async runLoop(): Promise<void> {
    while (!this.finishing && !this.abortCtl.signal.aborted) {
      try {
        await this.clock.sleep(this.interval, this.loopStop.signal);
      } catch {
        return;
      }
      if (this.finishing) return;
      try {
        await this.incrementalUpdate();
      } catch (err) {
        this.opts.log?.warn(`Trace update failed: ${errorMessage(err)}`, { job: this.opts.job.id });
      }
    }
  }

  private async incrementalUpdate(): Promise<void> {
    const patch = await this.sendPatch(this.loopStop.signal);
    if (patch.outcome === 'abort') {
      this.abort(patch);
      return;
    }
    if (patch.outcome !== 'succeeded' || this.finishing) return;
    if (this.clock.now() - this.sentTime <= this.forceSendInterval) return;
    const touch = await this.putState({ state: 'running', failureReason: null, exitCode: null }, this.loopStop.signal);
    if (touch.outcome === 'abort' && !this.finishing) this.abort(touch);
  }

  /** Sends everything buffered (final flush); stops on abort or 404, or after `limit` unsuccessful patches in a row. */
  private async sendAll(limit: number): Promise<void> {
    let failures = 0;
    while (this.sentOffset < this.buffer.size) {
      const r = await this.sendPatch();
      if (r.outcome === 'succeeded') {
        failures = 0;
        continue;
      }
      if (r.outcome === 'abort' || r.outcome === 'not-found') return;
      if (++failures >= limit) {
        this.opts.log?.warn('Giving up sending the trace', { job: this.opts.job.id, sent: this.sentOffset, size: this.buffer.size });
        return;
      }
      await this.clock.sleep(this.interval);
    }
  }

  /** One PATCH from the acknowledged offset (nothing is sent when there is nothing new). */
  private async sendPatch(signal?: AbortSignal): Promise<PatchTraceResult> {
    const start = this.sentOffset;
    let content: Buffer;
    let size: number;
    try {
      size = this.buffer.size;
      content = await this.buffer.read(start, Math.min(this.maxPatch, Math.max(0, size - start)));
    } catch (err) {
      this.opts.log?.warn(`Reading the trace buffer failed: ${errorMessage(err)}`, { job: this.opts.job.id });
      return localResult('failed', start, errorMessage(err));
    }
    if (start + content.length < size) {
      const keep = content.length - incompleteTailLength(content);
      if (keep > 0) content = content.subarray(0, keep);
    }
    if (content.length === 0) return localResult('succeeded', start);
    const r = await this.opts.api.patchTrace(this.opts.job, content, start, {
      ...(this.opts.debugTrace ? { debugTrace: true } : {}),
      ...(signal ? { signal } : {}),
    });
    this.applyRemote(r);
    if (r.outcome === 'succeeded' || r.outcome === 'range-mismatch' || (r.outcome === 'abort' && r.status === 202)) {
      if (r.outcome === 'range-mismatch') {
        this.opts.log?.warn('Trace range mismatch; continuing from GitLab\'s offset', { job: this.opts.job.id, sent: start, remote: r.newOffset });
      }
      this.sentOffset = r.newOffset;
      this.sentTime = this.clock.now();
    } else if (r.outcome === 'failed' || r.outcome === 'not-found') {
      this.opts.log?.debug('Appending trace failed; retrying at the next update', { job: this.opts.job.id, status: r.status });
    }
    return r;
  }

  private async putState(result: ReportedState, signal?: AbortSignal): Promise<UpdateJobResult> {
    const state = result.state === 'success' || result.state === 'running' ? result.state : 'failed';
    const r = await this.opts.api.updateJob(
      this.opts.job,
      {
        state,
        failureReason: result.failureReason,
        supportedFailureReasons: this.opts.supportedFailureReasons ?? [],
        exitCode: result.exitCode,
        output: { checksum: this.buffer.checksum(), bytesize: this.buffer.size },
      },
      signal,
    );
    this.applyRemote(r);
    if (r.outcome === 'succeeded') this.sentTime = this.clock.now();
    if (r.outcome === 'failed' && !signal?.aborted) this.opts.log?.warn(`Updating job ${state} failed`, { job: this.opts.job.id, status: r.status });
    return r;
  }

  /** GitLab's `X-GitLab-Trace-Update-Interval`, capped. */
  private applyInterval(r: PatchTraceResult | UpdateJobResult): void {
    if (r.updateIntervalSeconds !== null) this.interval = Math.min(r.updateIntervalSeconds * 1000, MAX_UPDATE_INTERVAL_MS);
  }

  private applyRemote(r: PatchTraceResult | UpdateJobResult): void {
    this.applyInterval(r);
    if (r.cancelRequested && !this.cancelCtl.signal.aborted && !this.finishing) {
      this.opts.log?.warn('Job cancel requested by GitLab (Job-Status: canceling)', { job: this.opts.job.id });
      this.cancelCtl.abort(new JobFailure('job_canceled', 'canceled'));
      this.opts.onCancelRequested?.();
    }
  }

  private abort(r: PatchTraceResult | UpdateJobResult): void {
    if (this.abortCtl.signal.aborted) return;
    const remoteEnd = r.jobStatus === 'canceled' || r.jobStatus === 'failed';
    const why = remoteEnd ? `the job is ${r.jobStatus} on GitLab` : `GitLab answered ${r.status}`;
    const failure =
      r.jobStatus === 'canceled'
        ? new JobFailure('job_canceled', 'canceled')
        : new JobFailure('runner_system_failure', `${why}; the job was aborted`);
    this.opts.log?.warn(`Aborting job: ${why}`, { job: this.opts.job.id });
    this.abortCtl.abort(failure);
    this.opts.onAbort?.(failure);
  }
}
