import { BerthError, type ErrorCode } from '../shared/errors.js';

/**
 * Exit codes by error code: 2 for bad input (flags, config, pipeline) and for a Docker engine
 * that cannot be used before any job ran (unreachable, TLS certificates); 1 for anything not listed.
 */
const EXIT_CODES: Partial<Record<ErrorCode, number>> = { input_error: 2, engine_unavailable: 2 };

/**
 * Prints an error for a person and returns the exit code (EXIT_CODES). Never prints a stack
 * unless BERTH_DEBUG is set.
 */
export function reportError(err: unknown, stderr: NodeJS.WritableStream = process.stderr): number {
  const message = err instanceof Error ? err.message : String(err);
  stderr.write(`berth: error: ${message}\n`);
  if (process.env.BERTH_DEBUG && err instanceof Error && err.stack) stderr.write(`${err.stack}\n`);
  return (err instanceof BerthError && EXIT_CODES[err.code]) || 1;
}
