/**
 * CACHE_REQUEST_TIMEOUT as gitlab-runner reads it (common/build_settings.go validate, default
 * common/consts.go DefaultCacheRequestTimeout = 10): whole minutes, Go's strconv.ParseInt; an
 * unusable value gives the default and gitlab-runner's settings error. The helper's cache client
 * gets `--timeout <minutes>` as its http.Client Timeout, which bounds nothing at 0 or below.
 */
import type { JobVariable } from './job-spec.js';
import { parseGoInt64 } from '../shared/go-int.js';
import { variableValue } from './variables.js';

const DEFAULT_MINUTES = 10;
/** The longest timer Node keeps (longer ones fire at once); the job's own timeout ends a job long before. */
const UNBOUNDED_MS = 2 ** 31 - 1;

export interface CacheRequestTimeout {
  /** The bound of one cache request, body included. */
  ms: number;
  /** gitlab-runner's settings error for a value it cannot use, else null. */
  problem: string | null;
}

export function cacheRequestTimeout(vars: readonly JobVariable[]): CacheRequestTimeout {
  const raw = variableValue(vars, 'CACHE_REQUEST_TIMEOUT') ?? '';
  if (raw === '') return { ms: DEFAULT_MINUTES * 60_000, problem: null };
  const minutes = parseGoInt64(raw);
  if (minutes === null) {
    return { ms: DEFAULT_MINUTES * 60_000, problem: `CACHE_REQUEST_TIMEOUT: expected int got ${JSON.stringify(raw)}, using default value: ${DEFAULT_MINUTES}` };
  }
  return { ms: minutes <= 0 ? UNBOUNDED_MS : Math.min(UNBOUNDED_MS, minutes * 60_000), problem: null };
}
