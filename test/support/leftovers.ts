/**
 * The leftover probe: what Docker objects carrying a label are still there. Every test that
 * runs a job asserts that this is empty afterwards.
 */
import type { EngineClient } from '../../src/engine/engine-client.js';

export interface Leftovers {
  containers: string[];
  networks: string[];
  volumes: string[];
}

export async function findLeftovers(engine: EngineClient, label: string): Promise<Leftovers> {
  const [containers, networks, volumes] = await Promise.all([
    engine.listContainers([label]),
    engine.listNetworks([label]),
    engine.listVolumes([label]),
  ]);
  return {
    containers: containers.map((c) => c.name),
    networks: networks.map((n) => n.name),
    volumes: volumes.map((v) => v.name),
  };
}

export const NO_LEFTOVERS: Leftovers = { containers: [], networks: [], volumes: [] };
