/**
 * A job's `start_in`, as GitLab's Entry::Job and Processable check it: with `rules:` it belongs
 * in the rule ("config key may not be used with `rules`: start_in"); a job with `when: delayed`
 * needs one, a duration of at most one week; any other job must not have one ("start_in must
 * be blank"). GitLab refuses the pipeline in each case.
 */
import { configError, type Where } from '../load/source-positions.js';
import type { YamlMap } from '../load/yaml-value.js';
import { parseDuration } from './duration.js';

export const START_IN_LIMIT_SECONDS = 7 * 86_400;

export function checkStartIn(job: YamlMap, owner: string, hasRules: boolean, at: (key: string) => Where | undefined): void {
  const value = job.start_in;
  const given = value !== undefined && value !== null;
  if (given && hasRules) {
    throw configError(at('start_in'), `${owner}: start_in may not be used with rules; put it in the rule that says when: delayed`, 'start_in');
  }
  if (job.when !== 'delayed') {
    if (given) throw configError(at('start_in'), `${owner}: start_in is only for when: delayed; remove it or add when: delayed`, 'start_in');
    return;
  }
  const seconds = typeof value === 'string' || typeof value === 'number' ? parseDuration(value) : null;
  if (seconds === null) {
    const shown = given ? ` (not ${JSON.stringify(value)})` : '';
    throw configError(at(given ? 'start_in' : 'when'), `${owner}: when: delayed needs start_in, a duration such as "30 minutes" or "1 day"${shown}`, 'start_in');
  }
  if (seconds > START_IN_LIMIT_SECONDS) {
    throw configError(at('start_in'), `${owner}: start_in ${JSON.stringify(value)} is more than 1 week, the most GitLab allows`, 'start_in');
  }
}
