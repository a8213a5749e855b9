/**
 * One job's keywords, checked and normalised (after extends, !reference and default:).
 * An unknown key is an error, as in GitLab; keys berth exec does not implement yet are
 * collected so that the compiler can warn once per key.
 */
import type { ImageSpec, ServiceSpec } from '../../job/job-spec.js';
import { parseAllowFailure, type AllowFailure } from './allow-failure-config.js';
import { parseArtifacts, type ArtifactsConfig } from './artifacts-config.js';
import { parseCache, type CacheConfig } from './cache-config.js';
import { parseInherit, type Inherit } from './defaults.js';
import { parseDuration } from './duration.js';
import { parseImage, parseServices } from './image-config.js';
import { ALL_JOB_KEYS, isKnownJobKey, UNSUPPORTED_JOB_KEYS } from './job-keywords.js';
import { parseEnvironment, type EnvironmentConfig } from './environment-config.js';
import { parseCoverage } from './coverage-config.js';
import { expectExitCodes, expectString, expectStringList } from './keyword-values.js';
import { parseNeeds, type NeedConfig } from './needs-config.js';
import { parseParallel, type ParallelConfig, type ParallelInstance } from './parallel-config.js';
import { parsePolicy, type PolicyConfig } from '../rules/only-except.js';
import type { RetryPolicy } from '../pipeline.js';
import { JOB_RULES, parseRules, type RuleConfig } from '../rules/rules.js';
import { parseScript } from './script-config.js';
import { closeMatches } from '../plan/select-jobs.js';
import { configError, locationPrefix, type SourcePositions, type Where } from '../load/source-positions.js';
import { JOB_VARIABLE_KEYS, parseVariables, type ConfigVariable } from './variables-config.js';
import { checkStartIn } from './start-in.js';
import { isMap, type YamlMap, type YamlValue } from '../load/yaml-value.js';

export type JobWhen = 'on_success' | 'on_failure' | 'always' | 'manual' | 'delayed' | 'never';

export interface JobConfig {
  name: string;
  where: Where | undefined;
  stage: string;
  stageWhere: Where | undefined;
  beforeScript: string[];
  script: string[];
  afterScript: string[];
  image: ImageSpec | null;
  services: ServiceSpec[];
  variables: ConfigVariable[];
  inherit: Inherit;
  when: JobWhen;
  /** null: not set (manual jobs then allow failure). */
  allowFailure: AllowFailure | null;
  needs: NeedConfig[] | null;
  rules: RuleConfig[] | null;
  only: PolicyConfig | null;
  except: PolicyConfig | null;
  /** null: the project default. */
  timeoutSeconds: number | null;
  retry: RetryPolicy;
  /** `parallel:` as written (null: one job). */
  parallel: ParallelConfig | null;
  /** `artifacts:` (null: none). */
  artifacts: ArtifactsConfig | null;
  /** `cache:` (one entry per cache; [] without). */
  cache: CacheConfig[];
  /** `dependencies:` (null: not written; []: no artifacts at all); parallel jobs' names are expanded to their jobs. */
  dependencies: string[] | null;
  /** `environment:` (null: none): berth exec only sets GitLab's CI_ENVIRONMENT_* variables. */
  environment: EnvironmentConfig | null;
  /** `coverage:`: the regular expression between its slashes (null: none). */
  coverage: string | null;
  /** Where `dependencies:` is written (for its errors). */
  dependenciesWhere: Where | undefined;
  /** Set on the jobs a `parallel:` job expands to: the job as written and this instance. */
  instance: (ParallelInstance & { origin: string }) | null;
  /** Keys present that berth exec does not implement yet. */
  unsupportedKeys: string[];
}

const JOB_WHEN = ['on_success', 'on_failure', 'always', 'manual', 'delayed', 'never'];
/** GitLab's retry:when reasons, including those of GitLab 19.1 (runner_configuration_error, ...). */
const RETRY_WHEN = [
  'always', 'unknown_failure', 'script_failure', 'api_failure', 'stuck_or_timeout_failure', 'runner_system_failure',
  'runner_configuration_error', 'runner_external_dependency_failure', 'runner_interrupted', 'missing_dependency_failure',
  'runner_unsupported', 'stale_schedule', 'job_execution_timeout', 'archived_failure', 'unmet_prerequisites',
  'scheduler_failure', 'data_integrity_failure', 'stuck_pending_with_matching_runners', 'stuck_pending_no_matching_runners',
  'no_updates_running', 'no_updates_canceling', 'server_timeout_running', 'server_timeout_canceling',
];

export function parseJob(name: string, job: YamlMap, where: Where | undefined, positions: SourcePositions, warn: (m: string) => void): JobConfig {
  const owner = `job "${name}"`;
  const at = (key: string): Where | undefined => positions.key(job, key) ?? where;
  for (const key of Object.keys(job)) {
    if (!isKnownJobKey(key)) throw unknownKey(key, owner, at(key));
  }
  if (job.script === undefined || job.script === null) throw configError(where, `${owner}: script is required`, 'script');
  const script = parseScript(job.script, owner, 'script', at('script'));
  if (script.length === 0) throw configError(at('script'), `${owner}: script must not be empty`, 'script');
  const stageKey = job.stage !== undefined ? 'stage' : 'type';
  const rules = parseRules(job.rules, owner, JOB_RULES, positions, at('rules'), warn);
  if (rules && (job.only !== undefined || job.except !== undefined)) {
    throw configError(at('rules'), `${owner}: rules cannot be used together with only/except; keep one of them`, 'rules');
  }
  checkStartIn(job, owner, rules !== null, at);
  const needs = parseNeeds(job.needs, owner, positions, at('needs'), warn);
  const dependencies = parseDependencies(job.dependencies, owner, at('dependencies'));
  checkDependenciesNeeded(dependencies, needs, owner, at('dependencies'));
  return {
    name,
    where,
    stage: job[stageKey] === undefined ? 'test' : expectString(job[stageKey], `${owner}: stage`, at(stageKey), 'stage'),
    stageWhere: at(stageKey),
    beforeScript: parseScript(job.before_script, owner, 'before_script', at('before_script')),
    script,
    afterScript: parseScript(job.after_script, owner, 'after_script', at('after_script')),
    image: parseImage(job.image, owner, positions, at('image')),
    services: parseServices(job.services, owner, positions, at('services')),
    variables: parseVariables(job.variables, owner, positions, at('variables'), JOB_VARIABLE_KEYS),
    inherit: parseInherit(job.inherit, owner, positions, at('inherit')),
    when: parseWhen(job.when, owner, at('when'), warn),
    allowFailure: job.allow_failure === undefined || job.allow_failure === null ? null : parseAllowFailure(job.allow_failure, owner, positions, at('allow_failure')),
    needs,
    rules,
    only: parsePolicy(job.only, owner, 'only', positions, at('only')),
    except: parsePolicy(job.except, owner, 'except', positions, at('except')),
    timeoutSeconds: parseTimeout(job.timeout, owner, at('timeout')),
    retry: parseRetry(job.retry, owner, positions, at('retry')),
    parallel: parseParallel(job.parallel, owner, positions, at('parallel')),
    artifacts: parseArtifacts(job.artifacts, owner, positions, at('artifacts'), warn),
    cache: parseCache(job.cache, owner, positions, at('cache')),
    dependencies,
    environment: parseEnvironment(job.environment, owner, positions, at('environment')),
    coverage: parseCoverage(job.coverage, owner, at('coverage')),
    dependenciesWhere: at('dependencies'),
    instance: null,
    unsupportedKeys: (UNSUPPORTED_JOB_KEYS as readonly string[]).filter((k) => job[k] !== undefined),
  };
}

/** GitLab refuses a job with a key it does not know ("config contains unknown keys"). */
function unknownKey(key: string, owner: string, where: Where | undefined): Error {
  const close = closeMatches(key, [...ALL_JOB_KEYS]);
  const hint = close.length ? `; did you mean "${close[0]}"?` : '; GitLab refuses jobs with unknown keys';
  return configError(where, `${owner}: unknown key "${key}"${hint}`, key);
}

/** GitLab's Entry::Job: `validates :dependencies, array_of_strings: true`. */
function parseDependencies(value: YamlValue | undefined, owner: string, where: Where | undefined): string[] | null {
  if (value === undefined || value === null) return null;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
  throw configError(where, `${owner}: dependencies should be an array of strings`, 'dependencies');
}

/**
 * GitLab's Entry::Job (validate on: :composed): in a job with `needs:` jobs, every name in
 * `dependencies:` is one of them, both as written (before `parallel:` expands them).
 */
function checkDependenciesNeeded(dependencies: string[] | null, needs: NeedConfig[] | null, owner: string, where: Where | undefined): void {
  if (!dependencies?.length || !needs?.length) return;
  const needed = new Set(needs.map((n) => n.job));
  const missing = dependencies.filter((name) => !needed.has(name));
  if (missing.length) {
    throw configError(where, `${owner}: dependencies the ${missing.join(', ')} should be part of needs (a job with needs gets artifacts from those jobs only)`, 'dependencies');
  }
}

function parseWhen(value: YamlValue | undefined, owner: string, where: Where | undefined, warn: (m: string) => void): JobWhen {
  if (value === undefined || value === null) return 'on_success';
  if (typeof value !== 'string' || !JOB_WHEN.includes(value)) {
    throw configError(where, `${owner}: when must be one of ${JOB_WHEN.join(', ')}`, 'when');
  }
  if (value === 'delayed') {
    // Listed as GitLab lists it (doc: ci/yaml `when: delayed`); the scheduler runs it as on_success.
    warn(`${locationPrefix(where)}${owner}: when: delayed is run at once by berth exec (start_in is ignored)`);
    return 'delayed';
  }
  return value as JobWhen;
}

export function parseTimeout(value: YamlValue | undefined, owner: string, where: Where | undefined): number | null {
  if (value === undefined || value === null) return null;
  const seconds = typeof value === 'string' || typeof value === 'number' ? parseDuration(value) : null;
  if (seconds === null || seconds <= 0) {
    throw configError(where, `${owner}: timeout ${JSON.stringify(value)} is not a duration such as "1h 30m", "90 minutes" or "3600"`, 'timeout');
  }
  return seconds;
}

function parseRetry(value: YamlValue | undefined, owner: string, positions: SourcePositions, where: Where | undefined): RetryPolicy {
  const policy: RetryPolicy = { max: 0, when: ['always'], exitCodes: [] };
  if (value === undefined || value === null) return policy;
  const max = (v: YamlValue | undefined, at: Where | undefined): number => {
    if (typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 2) return v;
    throw configError(at, `${owner}: retry must be 0, 1 or 2, or a map with max, when and exit_codes`, 'retry');
  };
  if (!isMap(value)) return { ...policy, max: max(value, where) };
  for (const key of Object.keys(value)) {
    if (!['max', 'when', 'exit_codes'].includes(key)) throw configError(positions.key(value, key), `${owner}: retry has unknown key "${key}"`, 'retry');
  }
  if (value.max !== undefined) policy.max = max(value.max, positions.key(value, 'max'));
  if (value.when !== undefined) {
    policy.when = expectStringList(value.when, `${owner}: retry:when`, positions.key(value, 'when'), { allowSingle: true, key: 'retry' });
    const bad = policy.when.find((w) => !RETRY_WHEN.includes(w));
    if (bad) throw configError(positions.key(value, 'when'), `${owner}: retry:when "${bad}" is not one of ${RETRY_WHEN.join(', ')}`, 'retry');
  }
  if (value.exit_codes !== undefined) {
    policy.exitCodes = expectExitCodes(value.exit_codes, `${owner}: retry:exit_codes`, positions.key(value, 'exit_codes'), 'retry');
    // GitLab (auto_retry.rb options_retry_when): with exit_codes, no `when` means no reason.
    if (value.when === undefined) policy.when = [];
  }
  return policy;
}
