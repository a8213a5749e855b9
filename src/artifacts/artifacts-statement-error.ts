/**
 * The artifacts statement (RUNNER_GENERATE_ARTIFACTS_METADATA) could not be made: a file's
 * digest is missing because the archive writer did not read the file through.
 */
import { BerthError } from '../shared/errors.js';

export class ArtifactsStatementError extends BerthError {
  /** The file (path in the archive) whose digest is missing. */
  readonly entry: string;

  constructor(entry: string, message: string) {
    super('artifacts_error', message);
    this.entry = entry;
  }
}
