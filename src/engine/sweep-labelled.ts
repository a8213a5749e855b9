/**
 * The one sweeper: list by label → remove containers (forced, with their anonymous volumes) →
 * networks → volumes. Used by the per-job cleanup, the `berth run` start-up sweep and the
 * `berth exec` sweep. It never throws for an object it could not list or remove: the report
 * says what was removed and what was not (with the error), and the caller logs it.
 */
import type { EngineClient, ListedObject } from './engine-client.js';
import { removeNetworkForcefully } from './remove-network.js';
import { errorMessage } from '../shared/errors.js';

export type SweptKind = 'container' | 'network' | 'volume';

export interface SweptObject {
  kind: SweptKind;
  /** The object's name when a listing gave one, else its id (shortened) or volume name. */
  name: string;
}

export interface SweepFailure {
  /** `listing` when a list call failed: objects of that kind may have been missed. */
  kind: SweptKind | 'listing';
  name: string;
  error: unknown;
}

export interface SweepReport {
  removed: SweptObject[];
  failed: SweepFailure[];
}

export interface SweepPlan {
  /** Label filters (`key=value`); every object they list is removed. None: list nothing. */
  filters?: string[];
  /** With filters: only listed objects it accepts are removed. */
  select?: (o: ListedObject) => boolean;
  /** Objects known by id (volumes by name), removed whether or not a listing finds them. */
  known?: { containers?: Iterable<string>; networks?: Iterable<string>; volumes?: Iterable<string> };
  /** Containers that outlive the sweep but joined its networks: detached alongside the container removal. */
  detach?: Iterable<{ network: string; container: string }>;
  /** Also detach whatever else is still attached to a network before removing it (default true). */
  detachAll?: boolean;
  signal?: AbortSignal;
}

/** The part of the engine a sweep uses. */
export type SweepEngine = Pick<
  EngineClient,
  'listContainers' | 'listNetworks' | 'listVolumes' | 'listContainersOnNetwork' | 'removeContainer' | 'removeNetwork' | 'disconnectNetwork' | 'removeVolume'
>;

export async function sweepLabelled(engine: SweepEngine, plan: SweepPlan): Promise<SweepReport> {
  const { signal } = plan;
  const report: SweepReport = { removed: [], failed: [] };
  const targets = await listTargets(engine, plan, report);
  const attempt = async (object: SweptObject, fn: () => Promise<void>): Promise<void> => {
    try {
      await fn();
      report.removed.push(object);
    } catch (error) {
      report.failed.push({ ...object, error });
    }
  };
  await Promise.all([
    ...[...targets.containers].map(([id, name]) =>
      attempt({ kind: 'container', name }, () => engine.removeContainer(id, { force: true, volumes: true }, signal)),
    ),
    ...[...(plan.detach ?? [])].map(async ({ network, container }) => {
      try {
        await engine.disconnectNetwork(network, container, signal);
      } catch (error) {
        report.failed.push({ kind: 'container', name: `${short(container)} on network ${network}`, error });
      }
    }),
  ]);
  const detachAll = plan.detachAll ?? true;
  await Promise.all(
    [...targets.networks].map(([id, name]) =>
      attempt({ kind: 'network', name }, () => (detachAll ? removeNetworkForcefully(engine, id, signal) : engine.removeNetwork(id, signal))),
    ),
  );
  await Promise.all([...targets.volumes].map(([name]) => attempt({ kind: 'volume', name }, () => engine.removeVolume(name, signal))));
  return report;
}

/** One line per failure: `container berth-job-1: <what the engine said>`. */
export function formatSweepFailure(f: SweepFailure): string {
  return `${f.kind} ${f.name}: ${errorMessage(f.error)}`;
}

export function countRemoved(report: SweepReport, kind: SweptKind): number {
  return report.removed.filter((o) => o.kind === kind).length;
}

type Targets = Record<'containers' | 'networks' | 'volumes', Map<string, string>>;

async function listTargets(engine: SweepEngine, plan: SweepPlan, report: SweepReport): Promise<Targets> {
  const known = (ids: Iterable<string> | undefined, shorten: boolean): Map<string, string> =>
    new Map([...(ids ?? [])].map((id) => [id, shorten ? short(id) : id]));
  const targets: Targets = {
    containers: known(plan.known?.containers, true),
    networks: known(plan.known?.networks, true),
    volumes: known(plan.known?.volumes, false),
  };
  const filters = plan.filters;
  if (!filters?.length) return targets;
  const list = async (kind: keyof Targets, fn: () => Promise<ListedObject[]>): Promise<void> => {
    try {
      for (const o of await fn()) if (!plan.select || plan.select(o)) targets[kind].set(kind === 'volumes' ? o.name : o.id, o.name);
    } catch (error) {
      report.failed.push({ kind: 'listing', name: `${kind} labelled ${filters.join(', ')}`, error });
    }
  };
  await Promise.all([
    list('containers', () => engine.listContainers(filters, plan.signal)),
    list('networks', () => engine.listNetworks(filters, plan.signal)),
    list('volumes', () => engine.listVolumes(filters, plan.signal)),
  ]);
  return targets;
}

function short(id: string): string {
  return id.slice(0, 12);
}
