/**
 * `environment:` of a job (GitLab's Entry::Environment): a name, or a map with `name` and
 * optionally `url`, `action`, `deployment_tier`, `on_stop`, `auto_stop_in`, `kubernetes`.
 * berth exec deploys nothing and tracks no environment; it gives the job GitLab's environment
 * variables (environment-variables.ts).
 */
import { configError, type SourcePositions, type Where } from '../load/source-positions.js';
import { isMap, type YamlValue } from '../load/yaml-value.js';
import { expectString } from './keyword-values.js';

export interface EnvironmentConfig {
  /** As written: variables are expanded per job. */
  name: string;
  url: string | null;
  action: 'start' | 'prepare' | 'stop' | 'verify' | 'access';
  tier: 'production' | 'staging' | 'testing' | 'development' | 'other' | null;
  /** The job that stops this environment (`on_stop`), as written; null without one. */
  onStop?: { job: string; where: Where | undefined } | null;
}

const KEYS = ['name', 'url', 'action', 'deployment_tier', 'on_stop', 'auto_stop_in', 'kubernetes'];
const ACTIONS: readonly EnvironmentConfig['action'][] = ['start', 'prepare', 'stop', 'verify', 'access'];
const TIERS: readonly NonNullable<EnvironmentConfig['tier']>[] = ['production', 'staging', 'testing', 'development', 'other'];

export function parseEnvironment(value: YamlValue | undefined, owner: string, positions: SourcePositions, where: Where | undefined): EnvironmentConfig | null {
  if (value === undefined || value === null) return null;
  const what = `${owner}: environment`;
  if (typeof value === 'string') return checkedName({ name: value, url: null, action: 'start', tier: null }, what, where);
  if (!isMap(value)) throw configError(where, `${what} should be a string or a map`, 'environment');
  const at = (key: string): Where | undefined => positions.key(value, key) ?? where;
  for (const key of Object.keys(value)) {
    if (!KEYS.includes(key)) throw configError(at(key), `${what} config contains unknown keys: ${key}`, 'environment');
  }
  const action = value.action === undefined ? 'start' : expectString(value.action, `${what}:action`, at('action'), 'environment');
  if (!ACTIONS.includes(action as EnvironmentConfig['action'])) {
    throw configError(at('action'), `${what}:action should be start, stop, prepare, verify, or access`, 'environment');
  }
  const tier = value.deployment_tier === undefined ? null : expectString(value.deployment_tier, `${what}:deployment_tier`, at('deployment_tier'), 'environment');
  if (tier !== null && !TIERS.includes(tier as NonNullable<EnvironmentConfig['tier']>)) {
    throw configError(at('deployment_tier'), `${what}:deployment_tier must be one of ${TIERS.join(', ')}`, 'environment');
  }
  return checkedName(
    {
      name: expectString(value.name, `${what}:name`, at('name'), 'environment'),
      url: value.url === undefined ? null : expectString(value.url, `${what}:url`, at('url'), 'environment'),
      action: action as EnvironmentConfig['action'],
      tier: tier as EnvironmentConfig['tier'],
      onStop: value.on_stop === undefined || value.on_stop === null
        ? null
        : { job: expectString(value.on_stop, `${what}:on_stop`, at('on_stop'), 'environment'), where: at('on_stop') },
    },
    what,
    where,
  );
}

function checkedName(env: EnvironmentConfig, what: string, where: Where | undefined): EnvironmentConfig {
  if (env.name.trim() === '') throw configError(where, `${what}: the name can't be blank`, 'environment');
  return env;
}
