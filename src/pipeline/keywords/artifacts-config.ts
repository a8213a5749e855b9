/**
 * `artifacts:` as GitLab's config entries check it (lib/gitlab/ci/config/entry/artifacts.rb,
 * reports.rb, reports/coverage_report.rb): paths, exclude, untracked, when, name, expire_in,
 * expose_as, public/access and `reports: {<type>: path or [paths]}`. expose_as, public and access
 * only matter to GitLab's web pages and never reach the runner; they are checked and dropped.
 */
import type { FileWhen } from '../../job/job-spec.js';
import { REPORT_TYPES } from '../../job/artifact-types.js';
import { parseDuration } from './duration.js';
import { expectBoolean, expectString } from './keyword-values.js';
import { configError, locationPrefix, type SourcePositions, type Where } from '../load/source-positions.js';
import { describeType, isMap, type YamlMap, type YamlValue } from '../load/yaml-value.js';

export interface ArtifactsConfig {
  name: string | null;
  untracked: boolean | null;
  /** null: not written (GitLab then sends no archive entry unless untracked); [] counts as written. */
  paths: string[] | null;
  exclude: string[];
  when: FileWhen | null;
  /** As written (`1 week`, `never`); null when not given. */
  expireIn: string | null;
  /** In the order written; coverage_report is already its format (cobertura/jacoco) with its one path. */
  reports: { type: string; paths: string[] }[];
}

const ARTIFACTS_KEYS = ['name', 'untracked', 'paths', 'reports', 'when', 'expire_in', 'expose_as', 'exclude', 'public', 'access'];
const ARTIFACTS_WHEN = ['on_success', 'on_failure', 'always'];
const ACCESS = ['none', 'developer', 'all'];
/** GitLab's EXPOSE_AS_REGEX (Ruby's \w is ASCII). */
const EXPOSE_AS = /^[A-Za-z0-9_][-A-Za-z0-9_ ]*$/;
/**
 * Report keys GitLab accepts; `jacoco` is only a coverage_report format. `cobertura` was removed
 * as a key in GitLab 15.0 (now `coverage_report: {coverage_format: cobertura}`): berth still
 * takes it, with a warning, so that older pipelines keep compiling.
 */
const REPORT_KEYS = REPORT_TYPES.filter((t) => t !== 'jacoco');
const COVERAGE_FORMATS = ['cobertura', 'jacoco'];

export function parseArtifacts(
  value: YamlValue | undefined,
  owner: string,
  positions: SourcePositions,
  where: Where | undefined,
  warn: (m: string) => void = () => {},
): ArtifactsConfig | null {
  if (value === undefined || value === null) return null;
  const what = `${owner}: artifacts`;
  if (!isMap(value)) throw configError(where, `${what} config should be a hash, not ${describeType(value)}`, 'artifacts');
  unknownKeys(value, ARTIFACTS_KEYS, what, positions);
  const at = (key: string): Where | undefined => positions.key(value, key) ?? where;
  const config: ArtifactsConfig = { name: null, untracked: null, paths: null, exclude: [], when: null, expireIn: null, reports: [] };
  if (value.name !== undefined && value.name !== null) config.name = expectString(value.name, `${what}:name`, at('name'), 'artifacts');
  if (value.untracked !== undefined && value.untracked !== null) config.untracked = expectBoolean(value.untracked, `${what}:untracked`, at('untracked'), 'artifacts');
  if (value.paths !== undefined && value.paths !== null) config.paths = stringArray(value.paths, `${what}:paths`, at('paths'));
  if (value.exclude !== undefined && value.exclude !== null) config.exclude = stringArray(value.exclude, `${what}:exclude`, at('exclude'));
  if (value.when !== undefined && value.when !== null) {
    if (typeof value.when !== 'string' || !ARTIFACTS_WHEN.includes(value.when)) {
      throw configError(at('when'), `${what}:when should be one of: ${ARTIFACTS_WHEN.join(', ')}`, 'artifacts');
    }
    config.when = value.when as FileWhen;
  }
  if (value.expire_in !== undefined && value.expire_in !== null) config.expireIn = expireIn(value.expire_in, what, at('expire_in'));
  checkExposeAs(value, config.paths, what, at);
  if (value.public !== undefined && value.public !== null) expectBoolean(value.public, `${what}:public`, at('public'), 'artifacts');
  if (value.access !== undefined && value.access !== null) {
    if (value.public !== undefined && value.public !== null) {
      throw configError(at('access'), `${what} config these keys cannot be used together: access, public`, 'artifacts');
    }
    if (typeof value.access !== 'string' || !ACCESS.includes(value.access)) {
      throw configError(at('access'), `${what}:access should be one of: ${ACCESS.join(', ')}`, 'artifacts');
    }
  }
  if (value.reports !== undefined && value.reports !== null) config.reports = parseReports(value.reports, what, positions, at('reports'), warn);
  return config;
}

function parseReports(value: YamlValue, owner: string, positions: SourcePositions, where: Where | undefined, warn: (m: string) => void): ArtifactsConfig['reports'] {
  const what = `${owner}:reports`;
  if (!isMap(value)) throw configError(where, `${what} config should be a hash, not ${describeType(value)}`, 'artifacts');
  unknownKeys(value, REPORT_KEYS, what, positions);
  const reports: ArtifactsConfig['reports'] = [];
  for (const [type, v] of Object.entries(value)) {
    const at = positions.key(value, type) ?? where;
    if (type === 'cobertura') {
      warn(`${locationPrefix(at)}${what}:cobertura was removed in GitLab 15.0 and GitLab refuses it; use coverage_report: {coverage_format: cobertura, path: ...}`);
    }
    if (type === 'coverage_report') {
      if (v === null) continue;
      reports.push(coverageReport(v, `${what}:coverage_report`, positions, at));
      continue;
    }
    // Entry::Reports: array_of_strings_or_string, then Array(v).
    if (v === null) reports.push({ type, paths: [] });
    else if (typeof v === 'string') reports.push({ type, paths: [v] });
    else if (Array.isArray(v) && v.every((p) => typeof p === 'string')) reports.push({ type, paths: v });
    else throw configError(at, `${what}:${type} should be an array of strings or a string`, 'artifacts');
  }
  return reports;
}

/** `coverage_report: {coverage_format, path}`: the report's type is its format (GitLab's BuildRunnerPresenter). */
function coverageReport(value: YamlValue, what: string, positions: SourcePositions, where: Where | undefined): { type: string; paths: string[] } {
  if (!isMap(value)) throw configError(where, `${what} config should be a hash, not ${describeType(value)}`, 'artifacts');
  unknownKeys(value, ['coverage_format', 'path'], what, positions);
  const format = value.coverage_format;
  if (typeof format !== 'string' || !COVERAGE_FORMATS.includes(format)) {
    throw configError(positions.key(value, 'coverage_format') ?? where, `${what}:coverage_format must be one of supported formats: ${COVERAGE_FORMATS.join(', ')}.`, 'artifacts');
  }
  if (typeof value.path !== 'string' || value.path === '') {
    throw configError(positions.key(value, 'path') ?? where, `${what}:path can't be blank and must be a string`, 'artifacts');
  }
  return { type: format, paths: [value.path] };
}

/** expose_as: ≤100 characters of letters, digits, '-', '_' and spaces; needs paths, none with '*'. */
function checkExposeAs(value: YamlMap, paths: string[] | null, what: string, at: (key: string) => Where | undefined): void {
  const exposeAs = value.expose_as;
  if (exposeAs === undefined || exposeAs === null) return;
  if (typeof exposeAs !== 'string') throw configError(at('expose_as'), `${what}:expose_as should be a string, not ${describeType(exposeAs)}`, 'artifacts');
  if (exposeAs.length > 100) throw configError(at('expose_as'), `${what}:expose_as is too long (maximum is 100 characters)`, 'artifacts');
  if (!EXPOSE_AS.test(exposeAs)) throw configError(at('expose_as'), `${what}:expose_as can contain only letters, digits, '-', '_' and spaces`, 'artifacts');
  if (paths === null || paths.length === 0) throw configError(at('expose_as'), `${what}:paths can't be blank when expose_as is set`, 'artifacts');
  if (paths.some((p) => p.includes('*'))) throw configError(at('paths'), `${what}:paths can't contain '*' when used with 'expose_as'`, 'artifacts');
}

/** GitLab's duration validator (a string) with Ci::Build::DurationParser: `never`, or a ChronicDuration. */
function expireIn(value: YamlValue, what: string, where: Where | undefined): string {
  const text = value;
  if (typeof text !== 'string' || (text !== 'never' && parseDuration(text) === null)) {
    throw configError(where, `${what}:expire_in should be a duration such as "1 week", "30 days" or "never"`, 'artifacts');
  }
  return text;
}

function stringArray(value: YamlValue, what: string, where: Where | undefined): string[] {
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
  throw configError(where, `${what} should be an array of strings`, 'artifacts');
}

function unknownKeys(map: YamlMap, allowed: readonly string[], what: string, positions: SourcePositions): void {
  const unknown = Object.keys(map).filter((k) => !allowed.includes(k));
  if (unknown.length) throw configError(positions.key(map, unknown[0]!), `${what} config contains unknown keys: ${unknown.join(', ')}`, 'artifacts');
}
