/**
 * At start, removes the containers, networks and volumes an earlier berth process of the same
 * runner (same system id and short token) left behind, e.g. after kill -9 or a forced
 * shutdown. Selects by label only; never touches cache volumes (unlabelled), objects of other
 * runners, of `berth exec`, of other hosts, or anything not made by berth.
 */
import { type SweepEngine, countRemoved, formatSweepFailure, sweepLabelled } from '../engine/sweep-labelled.js';
import { MANAGED_LABEL, SHORT_TOKEN_LABEL, SYSTEM_ID_LABEL } from '../executor/docker/labeller.js';

export interface SweepResult {
  containers: number;
  networks: number;
  volumes: number;
  /** One line per object that could not be listed or removed, with the engine's answer. */
  problems: string[];
}

export async function sweepRunnerLeftovers(engine: SweepEngine, systemId: string, shortToken: string): Promise<SweepResult> {
  const filters = [`${MANAGED_LABEL}=true`, `${SYSTEM_ID_LABEL}=${systemId}`, `${SHORT_TOKEN_LABEL}=${shortToken}`];
  const report = await sweepLabelled(engine, { filters });
  return {
    containers: countRemoved(report, 'container'),
    networks: countRemoved(report, 'network'),
    volumes: countRemoved(report, 'volume'),
    problems: report.failed.map(formatSweepFailure),
  };
}
