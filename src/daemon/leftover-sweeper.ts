/**
 * At start, removes the containers, networks and volumes an earlier berth process of the same
 * runner (same system id and short token) left behind, e.g. after kill -9 or a forced
 * shutdown. Selects by label only; never touches cache volumes (unlabelled), objects of other
 * runners, of `berth exec`, of other hosts, or anything not made by berth.
 */
import type { EngineClient } from '../engine/engine-client.js';
import { removeNetworkForcefully } from '../engine/remove-network.js';
import { MANAGED_LABEL, SHORT_TOKEN_LABEL, SYSTEM_ID_LABEL } from '../executor/docker/labeller.js';
import { errorMessage } from '../shared/errors.js';

export interface SweepResult {
  containers: number;
  networks: number;
  volumes: number;
  problems: string[];
}

export async function sweepRunnerLeftovers(engine: EngineClient, systemId: string, shortToken: string): Promise<SweepResult> {
  const filters = [`${MANAGED_LABEL}=true`, `${SYSTEM_ID_LABEL}=${systemId}`, `${SHORT_TOKEN_LABEL}=${shortToken}`];
  const result: SweepResult = { containers: 0, networks: 0, volumes: 0, problems: [] };
  const remove = async (kind: keyof Omit<SweepResult, 'problems'>, name: string, fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
      result[kind]++;
    } catch (err) {
      result.problems.push(`${kind.slice(0, -1)} ${name}: ${errorMessage(err)}`);
    }
  };
  const containers = await engine.listContainers(filters);
  await Promise.all(containers.map((c) => remove('containers', c.name, () => engine.removeContainer(c.id, { force: true, volumes: true }))));
  const networks = await engine.listNetworks(filters);
  await Promise.all(networks.map((n) => remove('networks', n.name, () => removeNetworkForcefully(engine, n.id))));
  const volumes = await engine.listVolumes(filters);
  await Promise.all(volumes.map((v) => remove('volumes', v.name, () => engine.removeVolume(v.name))));
  return result;
}
