/**
 * `image:` and `services:` as a string or a map. Names stay unexpanded (the runner expands
 * variables in them). Service aliases are split on commas and whitespace.
 */
import type { DockerExecutorOpts, ImageSpec, ServiceSpec } from '../../job/job-spec.js';
import type { PullPolicy } from '../../shared/pull-policy.js';
import { flattenList } from './flatten-list.js';
import { expectString, expectStringList } from './keyword-values.js';
import { configError, type SourcePositions, type Where } from '../load/source-positions.js';
import { parseVariables } from './variables-config.js';
import { describeType, isMap, type YamlMap, type YamlValue } from '../load/yaml-value.js';

const IMAGE_KEYS = ['name', 'entrypoint', 'pull_policy', 'docker', 'kubernetes', 'ports'];
const SERVICE_KEYS = [...IMAGE_KEYS, 'alias', 'command', 'variables'];
const PULL_POLICIES: readonly PullPolicy[] = ['always', 'if-not-present', 'never'];

export function parseImage(value: YamlValue | undefined, owner: string, positions: SourcePositions, where: Where | undefined): ImageSpec | null {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value === 'string') return { name: value };
  if (!isMap(value)) throw configError(where, `${owner}: image must be a string or a map with name, not ${describeType(value)}`, 'image');
  return imageFields(value, `${owner}: image`, IMAGE_KEYS, positions, where);
}

export function parseServices(value: YamlValue | undefined, owner: string, positions: SourcePositions, where: Where | undefined): ServiceSpec[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw configError(where, `${owner}: services must be a list of images`, 'services');
  // Nested lists (`- !reference [.x, services]`) are flattened, as GitLab's Entry::Services does.
  return flattenList(value, positions, where).map(({ value: item, where: at }, i) => {
    const what = `${owner}: services[${i}]`;
    if (typeof item === 'string') return { name: item, aliases: [], variables: [] };
    if (!isMap(item)) throw configError(at, `${what} must be a string or a map with name, not ${describeType(item)}`, 'services');
    const base = imageFields(item, what, SERVICE_KEYS, positions, at);
    const service: ServiceSpec = { ...base, aliases: [], variables: [] };
    if (item.alias !== undefined) {
      const alias = expectString(item.alias, `${what}: alias`, positions.key(item, 'alias'), 'services');
      service.aliases = alias.split(/[\s,]+/).filter((a) => a !== '');
    }
    if (item.command !== undefined) {
      service.command = expectStringList(item.command, `${what}: command`, positions.key(item, 'command'), { key: 'services' });
    }
    if (item.variables !== undefined) {
      service.variables = parseVariables(item.variables, what, positions, positions.key(item, 'variables'))
        .map(({ key, value: v }) => ({ key, value: v }));
    }
    return service;
  });
}

function imageFields(map: YamlMap, what: string, allowed: string[], positions: SourcePositions, where: Where | undefined): ImageSpec {
  for (const key of Object.keys(map)) {
    if (!allowed.includes(key)) {
      throw configError(positions.key(map, key), `${what} has unknown key "${key}" (allowed: ${allowed.join(', ')})`);
    }
  }
  if (map.name === undefined) throw configError(where, `${what} needs a name`);
  const spec: ImageSpec = { name: expectString(map.name, `${what}: name`, positions.key(map, 'name')) };
  if (map.entrypoint !== undefined) {
    spec.entrypoint = expectStringList(map.entrypoint, `${what}: entrypoint`, positions.key(map, 'entrypoint'));
  }
  if (map.pull_policy !== undefined) spec.pullPolicy = pullPolicy(map.pull_policy, what, positions.key(map, 'pull_policy'));
  if (map.docker !== undefined) spec.docker = dockerOptions(map.docker, what, positions, positions.key(map, 'docker'));
  return spec;
}

function pullPolicy(value: YamlValue, what: string, where: Where | undefined): PullPolicy[] {
  const list = expectStringList(value, `${what}: pull_policy`, where, { allowSingle: true });
  for (const p of list) {
    if (!PULL_POLICIES.includes(p as PullPolicy)) {
      throw configError(where, `${what}: pull_policy "${p}" is not one of ${PULL_POLICIES.join(', ')}`);
    }
  }
  if (list.length === 0) throw configError(where, `${what}: pull_policy must not be empty`);
  return list as PullPolicy[];
}

function dockerOptions(value: YamlValue, what: string, positions: SourcePositions, where: Where | undefined): DockerExecutorOpts {
  if (!isMap(value)) throw configError(where, `${what}: docker must be a map with user and/or platform`);
  const opts: DockerExecutorOpts = {};
  for (const [key, v] of Object.entries(value)) {
    const at = positions.key(value, key);
    if (key === 'user' && (typeof v === 'string' || typeof v === 'number')) opts.user = String(v);
    else if (key === 'platform' && typeof v === 'string') opts.platform = v;
    else if (key === 'user' || key === 'platform') throw configError(at, `${what}: docker.${key} must be a string`);
    else throw configError(at, `${what}: docker has unknown key "${key}" (allowed: user, platform)`);
  }
  return opts;
}
