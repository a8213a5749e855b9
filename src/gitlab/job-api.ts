/**
 * The job-scoped half of the runner API, as results rather than exceptions: PUT jobs/:id and
 * PATCH jobs/:id/trace. GitLabClient implements JobResultsApi; TraceUploader depends on this
 * interface only, so tests can put a fake in front of it.
 *
 * Outcomes follow gitlab-runner (network/gitlab.go createUpdateJobResult /
 * createPatchTraceResult): a `Job-Status` of `canceled` or `failed`, or a 403, means abort
 * (checked first, whatever the status); `Job-Status: canceling` means a graceful cancel was
 * requested (the call itself may still have succeeded).
 */
import type { FailureReason } from '../job/job-result.js';
import { header, type HttpResponse } from './http-transport.js';
import type { JobPayloadError } from './job-payload.js';
import type { JobSpec } from '../job/job-spec.js';
import type { WireJobPayload } from './wire-types.js';

/** A job as the API knows it. The token is a secret. */
export interface JobRef {
  url: string;
  id: number;
  token: string;
}

export type RequestJobResult =
  | { kind: 'job'; job: JobSpec; payload: WireJobPayload; healthy: true }
  /** 201, but the payload cannot be run; report it failed when error.jobId is set. */
  | { kind: 'invalid-job'; error: JobPayloadError; healthy: true }
  | { kind: 'no-job'; healthy: true }
  /** 503: GitLab is currently unavailable. */
  | { kind: 'unavailable'; healthy: true }
  /** 409: a concurrency conflict while assigning the job; try again. */
  | { kind: 'conflict'; healthy: true }
  /** 403: the token is not valid; counts towards unhealthy_requests_limit. */
  | { kind: 'forbidden'; healthy: false }
  /** Any other status (status -1: no HTTP answer, which gitlab-runner counts as unhealthy). */
  | { kind: 'failed'; status: number; message: string; healthy: boolean };

export interface JobUpdate {
  state: 'running' | 'success' | 'failed';
  /** For `failed`; null or absent means script_failure. Mapped with mapFailureReason. */
  failureReason?: FailureReason | null;
  /** The job's `features.failure_reasons`. */
  supportedFailureReasons?: readonly string[];
  /** Sent when non-zero (gitlab-runner's `omitempty`). */
  exitCode?: number | null;
  output: { checksum: string; bytesize: number };
}

interface RemoteState {
  /** HTTP status; -1 when there was no answer. */
  status: number;
  /** The `Job-Status` header, if any. */
  jobStatus: string | null;
  /** `X-GitLab-Trace-Update-Interval` in seconds, when a positive integer. */
  updateIntervalSeconds: number | null;
  /** `Job-Status: canceling`. */
  cancelRequested: boolean;
  /** Why it failed, for logs (no secrets). */
  message?: string;
}

export interface UpdateJobResult extends RemoteState {
  outcome: 'succeeded' | 'accepted' | 'trace-validation-failed' | 'abort' | 'failed';
}

export interface PatchTraceResult extends RemoteState {
  outcome: 'succeeded' | 'range-mismatch' | 'not-found' | 'abort' | 'failed';
  /** Where the next patch starts. */
  newOffset: number;
  /** The end of GitLab's `Range: 0-<end>` header, if present. */
  rangeEnd: number | null;
}

export interface JobResultsApi {
  updateJob(job: JobRef, update: JobUpdate, signal?: AbortSignal): Promise<UpdateJobResult>;
  patchTrace(job: JobRef, content: Buffer, startOffset: number, opts?: { debugTrace?: boolean; signal?: AbortSignal }): Promise<PatchTraceResult>;
}

function remoteState(res: HttpResponse): RemoteState {
  const jobStatus = header(res.headers, 'job-status') ?? null;
  const interval = Number(header(res.headers, 'x-gitlab-trace-update-interval'));
  return {
    status: res.status,
    jobStatus,
    updateIntervalSeconds: Number.isInteger(interval) && interval > 0 ? interval : null,
    cancelRequested: jobStatus === 'canceling',
  };
}

function isAbort(s: RemoteState): boolean {
  return s.jobStatus === 'canceled' || s.jobStatus === 'failed' || s.status === 403;
}

export function classifyUpdate(res: HttpResponse): UpdateJobResult {
  const s = remoteState(res);
  if (isAbort(s) || s.status === 404) return { ...s, outcome: 'abort' };
  if (s.status === 200) return { ...s, outcome: 'succeeded' };
  if (s.status === 202) return { ...s, outcome: 'accepted' };
  if (s.status === 412) return { ...s, outcome: 'trace-validation-failed' };
  return { ...s, outcome: 'failed', message: `PUT answered ${s.status}` };
}

export function classifyPatch(res: HttpResponse, startOffset: number, endOffset: number): PatchTraceResult {
  const s = remoteState(res);
  const rangeEnd = parseRangeEnd(header(res.headers, 'range'));
  // A 202 means the patch was taken whole: GitLab answers 416 when what it stored does not end
  // where the patch ends. Its Range is not read here, as gitlab-runner does not read it (a server
  // writing an inclusive end, 0-<size-1>, would otherwise make berth resend its last byte forever).
  if (s.status === 202) return { ...s, outcome: isAbort(s) ? 'abort' : 'succeeded', newOffset: endOffset, rangeEnd };
  if (isAbort(s)) return { ...s, outcome: 'abort', newOffset: startOffset, rangeEnd };
  // 416: go on from the end GitLab names; with no usable Range, from 0 (gitlab-runner's
  // TracePatchResponse.NewOffset), so a server that lost the trace gets all of it again.
  if (s.status === 416) return { ...s, outcome: 'range-mismatch', newOffset: rangeEnd ?? 0, rangeEnd };
  if (s.status === 404) return { ...s, outcome: 'not-found', newOffset: startOffset, rangeEnd };
  return { ...s, outcome: 'failed', newOffset: startOffset, rangeEnd, message: `PATCH answered ${s.status}` };
}

/** "0-1234" → 1234, as gitlab-runner reads it (the part after the one "-"); anything else (no header, "0-12-34", "0-") → null. */
export function parseRangeEnd(range: string | undefined): number | null {
  const m = /^[^-]*-(\d+)$/.exec((range ?? '').trim());
  return m ? Number(m[1]) : null;
}
