/**
 * State of the GitLab test server: runners, jobs with their reassembled traces, the request
 * log, and the programmable faults. See gitlab-test-server.ts for the HTTP side.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Crc32 } from '../../src/shared/crc32.js';

/** The runner API endpoints the server implements (the keys of the fault programme). */
export type Endpoint =
  | 'register'
  | 'verify'
  | 'unregister'
  | 'unregister-manager'
  | 'reset-token'
  | 'request'
  | 'update'
  | 'patch'
  | 'upload-artifacts'
  | 'download-artifacts'
  | 'object-storage'
  /** A download with a Range header (either of the two above). */
  | 'ranged-artifacts';

/**
 * One programmed reaction, used for one request (or `times` requests) of an endpoint, before
 * the endpoint behaves normally again. Steps run in the order given.
 */
export type FaultStep = { times?: number } & (
  /** Answer with this status (and headers/body) instead of processing the request. */
  | { status: number; headers?: Record<string, string>; body?: string }
  /** Wait, then process normally. */
  | { delayMs: number }
  /** Accept the connection and never answer (until the server closes). */
  | { hang: true }
  /** Destroy the connection without answering, before processing (recorded with status -2). */
  | { drop: true }
  /** PATCH only: keep only the first N bytes of the patch, answer 202 with the real Range. */
  | { partialAccept: number }
  /** Switch the job to this status first, then process normally (canceling → Job-Status). */
  | { jobStatus: JobStatus }
  /** Process normally. */
  | { pass: true }
  /**
   * Artifact bodies (download-artifacts, object-storage): announce the full Content-Length, send
   * only the first N bytes, then close the connection. On download-artifacts with
   * direct_download it applies to the object-storage request the redirect leads to.
   */
  | { truncate: number }
  /** Artifact bodies: send the right length with one byte (in the middle) flipped. */
  | { corrupt: true }
  /** Artifact bodies: send the first N bytes, wait `stallMs`, then the rest. */
  | { stallAt: number; stallMs: number }
);

export type JobStatus = 'pending' | 'running' | 'success' | 'failed' | 'canceling' | 'canceled';

export interface RecordedRequest {
  /** Milliseconds since the epoch when the request arrived. */
  at: number;
  endpoint: Endpoint | 'unknown';
  method: string;
  path: string;
  query: string;
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body (not for PATCH). */
  json?: unknown;
  bodyBytes: number;
  jobId?: number;
  contentRange?: string;
}

export interface RunnerRecord {
  id: number;
  token: string;
  paused: boolean;
  /** Redis `runner:build_queue:<token>`: changes whenever the queue changes. */
  queueValue: string;
  systemIds: Set<string>;
}

/** One artifact GitLab stored for a job (POST /jobs/:id/artifacts). */
export interface StoredArtifact {
  /** artifact_type (default archive). */
  type: string;
  /** artifact_format (default zip). */
  format: string;
  /** The multipart file name. */
  filename: string;
  /** expire_in as sent ('' when absent). */
  expireIn: string;
  size: number;
  /** Hex sha256 of the stored bytes (hashed when first read). */
  readonly sha256: string;
  /** The stored file on the server's disk. */
  path: string;
}

/**
 * A StoredArtifact whose sha256 is computed when first read (a second upload of the same type,
 * a test), not while it is received: hashing 157 MB costs about 450 ms of CPU, which the server
 * would take from berth and dockerd in bench/artifacts.
 */
export function storedArtifact(fields: Omit<StoredArtifact, 'sha256'>): StoredArtifact {
  let sha256: string | undefined;
  return {
    ...fields,
    get sha256(): string {
      sha256 ??= createHash('sha256').update(readFileSync(fields.path)).digest('hex');
      return sha256;
    },
  };
}

export interface FinalUpdate {
  state: string;
  failureReason?: string;
  exitCode?: number;
  checksum?: string;
  bytesize?: number;
}

export class TestJob {
  status: JobStatus = 'pending';
  /** The final PUT GitLab accepted. */
  final: FinalUpdate | null = null;
  /** Every PUT body received (keep-alives and final ones). */
  readonly updates: unknown[] = [];
  /** How many PATCH bodies had invalid UTF-8. */
  utf8Violations = 0;
  /** How many times the trace was reset after a checksum mismatch (412). */
  traceResets = 0;
  /** Uploaded artifacts, in upload order. */
  readonly artifacts: StoredArtifact[] = [];
  /** Variables of the job's dotenv report, in GitLab's order (last duplicate wins). */
  dotenv: { key: string; value: string }[] = [];
  private data = Buffer.alloc(64 * 1024);
  private length = 0;

  constructor(
    readonly id: number,
    readonly token: string,
    readonly payload: Record<string, unknown>,
    /** Only this runner token may take the job (undefined: any). */
    readonly runnerToken: string | undefined,
  ) {}

  /** `job_info.name` of the payload. */
  get name(): string {
    const info = this.payload.job_info as { name?: unknown } | undefined;
    return typeof info?.name === 'string' ? info.name : '';
  }

  /** The `archive` artifact, if one was uploaded. */
  get archive(): StoredArtifact | undefined {
    return this.artifacts.find((a) => a.type === 'archive');
  }

  /** The reassembled trace. */
  get trace(): Buffer {
    return Buffer.from(this.data.subarray(0, this.length));
  }

  get traceSize(): number {
    return this.length;
  }

  /** `crc32:%08x` of the stored trace. */
  checksum(): string {
    return `crc32:${new Crc32().update(this.data.subarray(0, this.length)).hex()}`;
  }

  append(bytes: Buffer): void {
    if (this.length + bytes.length > this.data.length) {
      const bigger = Buffer.alloc(Math.max(this.data.length * 2, this.length + bytes.length));
      this.data.copy(bigger, 0, 0, this.length);
      this.data = bigger;
    }
    bytes.copy(this.data, this.length);
    this.length += bytes.length;
  }

  /** Up to 3 bytes at the end of the trace that start a character not complete yet. */
  incompleteTail(): Buffer {
    for (let k = 1; k <= Math.min(3, this.length); k++) {
      const b = this.data[this.length - k]!;
      if ((b & 0xc0) === 0x80) continue;
      const need = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 1;
      return k < need ? Buffer.from(this.data.subarray(this.length - k, this.length)) : Buffer.alloc(0);
    }
    return Buffer.alloc(0);
  }

  resetTrace(): void {
    this.length = 0;
    this.traceResets++;
  }

  /** GitLab's "processing on runner": PATCH and PUT are allowed. */
  get processing(): boolean {
    return this.status === 'running' || this.status === 'canceling';
  }
}

export class FaultProgramme {
  private readonly queues = new Map<Endpoint, FaultStep[]>();

  /** Appends steps for an endpoint. */
  add(endpoint: Endpoint, steps: FaultStep[]): void {
    const q = this.queues.get(endpoint) ?? [];
    q.push(...steps.map((s) => ({ ...s })));
    this.queues.set(endpoint, q);
  }

  /** The step for the next request of the endpoint, if any is left. */
  next(endpoint: Endpoint): FaultStep | undefined {
    const q = this.queues.get(endpoint);
    const step = q?.[0];
    if (!q || !step) return undefined;
    const times = step.times ?? 1;
    if (times <= 1) q.shift();
    else step.times = times - 1;
    return step;
  }

  clear(endpoint?: Endpoint): void {
    if (endpoint) this.queues.delete(endpoint);
    else this.queues.clear();
  }

  pending(endpoint: Endpoint): number {
    return (this.queues.get(endpoint) ?? []).reduce((n, s) => n + (s.times ?? 1), 0);
  }
}

export function randomToken(prefix: string): string {
  return `${prefix}${randomBytes(15).toString('base64url')}`;
}

export function newQueueValue(): string {
  return randomBytes(16).toString('hex');
}
