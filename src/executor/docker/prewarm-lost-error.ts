/**
 * A build container prepared ahead of the job's turn (DockerExecutor.prewarm) that is no longer
 * as the prewarm left it when the turn comes: removed, or its waiting shell stopped, from outside
 * berth. The job is then prepared afresh (PrewarmedExecutor); without this check it failed with
 * the exit code of a script that never ran (137 after `docker rm -f`).
 */
import { BerthError } from '../../shared/errors.js';

export class PrewarmLostError extends BerthError {
  constructor(container: string, state: string) {
    super('prewarm_lost', `the container prepared ahead for this job (${container}) is ${state}: the job is prepared again`);
    this.name = 'PrewarmLostError';
  }
}
