/**
 * How `berth run` ends once it stops asking for jobs. Draining (SIGQUIT): wait for running jobs
 * as long as they take, exit 0. Aborting (SIGTERM/SIGINT): the jobs were aborted; wait for them
 * to report and clean up within shutdown_timeout, exit 0 if they did and 1 if not. A forced
 * exit (the second signal) ends either wait at once. No timer outlives the race.
 */
import { sleep } from '../shared/abort.js';
import type { RunnerLog } from './runner-log.js';

export interface ShutdownRace {
  mode: 'draining' | 'aborting';
  /** Resolves when no job runs and no request is in flight. */
  idle: () => Promise<void>;
  /** Resolves on a forced exit. */
  forced: Promise<void>;
  /** shutdown_timeout, for the abort path. */
  timeoutMs: number;
  log: Pick<RunnerLog, 'info' | 'warn'>;
}

/** Resolves with the exit code. */
export async function raceShutdown(race: ShutdownRace): Promise<number> {
  if (race.mode === 'draining') {
    await Promise.race([race.idle(), race.forced]);
    race.log.info('All jobs finished: exiting');
    return 0;
  }
  const deadline = new AbortController();
  const finished = await Promise.race([
    race.idle().then(() => true),
    race.forced.then(() => false),
    sleep(race.timeoutMs, deadline.signal).then(
      () => false,
      () => false,
    ),
  ]);
  deadline.abort(); // no timer may keep the process alive after this
  if (!finished) race.log.warn('Shutdown did not finish in time: exiting; the next start removes what is left');
  return finished ? 0 : 1;
}
