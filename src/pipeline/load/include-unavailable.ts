/**
 * An include berth exec cannot get here and now (no GitLab known for the project, the server
 * unreachable and nothing cached). Not a mistake in the pipeline: the include is skipped with a
 * warning that says how to make it available, as for include:template. A wrong ref, a missing
 * file, a refused token or a bad URL stay input errors.
 */
import { InputError } from '../../shared/errors.js';

export class IncludeUnavailableError extends InputError {}
