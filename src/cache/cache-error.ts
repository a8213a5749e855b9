/** A cache store failed. The stores turn these into warnings: a cache failure never fails a job. */
import { BerthError } from '../shared/errors.js';

export class CacheError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('cache_error', message, options);
  }
}
