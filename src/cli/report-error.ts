import { BerthError, InputError } from '../shared/errors.js';

/**
 * Prints an error for a person and returns the exit code: 2 for bad input (flags, config,
 * pipeline), 1 for anything else. Never prints a stack unless BERTH_DEBUG is set.
 */
export function reportError(err: unknown, stderr: NodeJS.WritableStream = process.stderr): number {
  const message = err instanceof Error ? err.message : String(err);
  stderr.write(`berth: error: ${message}\n`);
  if (process.env.BERTH_DEBUG && err instanceof Error && err.stack) stderr.write(`${err.stack}\n`);
  if (err instanceof InputError) return 2;
  if (err instanceof BerthError && err.code === 'usage') return 2;
  return 1;
}
