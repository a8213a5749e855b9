/**
 * The GIT_SUBMODULE_* variables of a job, read as gitlab-runner reads them (common/build_settings.go
 * validate, common/build.go GetSubmoduleStrategy / GetSubmodulePaths / GetSubmoduleDepth /
 * GetGitSubmoduleUpdateFlags): the strategy (none by default; none whatever it says when
 * GIT_STRATEGY is none or empty), the paths and update flags split on white space, the depth
 * (GIT_DEPTH's by default) and GIT_SUBMODULE_FORCE_HTTPS. A value gitlab-runner would warn about
 * and replace by its default gives a warning here too; an unknown strategy or a pathspec
 * `:(exclude)` standing alone fails the job, as in gitlab-runner.
 */
import { BerthError } from '../shared/errors.js';
import type { JobVariable } from './job-spec.js';
import { variableValue } from './variables.js';
import { parseGoBool } from '../shared/go-bool.js';

export type SubmoduleStrategy = 'none' | 'normal' | 'recursive';

export interface SubmoduleSettings {
  strategy: SubmoduleStrategy;
  /** GIT_SUBMODULE_PATHS: git pathspecs, passed after `--`. */
  paths: string[];
  /** GIT_SUBMODULE_DEPTH, else the job's git depth; 0: full history. */
  depth: number;
  /** GIT_SUBMODULE_UPDATE_FLAGS. */
  updateFlags: string[];
  /** GIT_SUBMODULE_FORCE_HTTPS: ssh URLs of the GitLab server are fetched over https. */
  forceHttps: boolean;
  /** What gitlab-runner would print as a settings warning (the value was replaced by its default). */
  warnings: string[];
}

export class SubmoduleSettingsError extends BerthError {
  constructor(message: string) {
    super('input_error', message);
  }
}

/**
 * The job's submodule settings; `gitDepth` is the depth its repository is fetched with (the
 * default of GIT_SUBMODULE_DEPTH). Throws SubmoduleSettingsError for an unknown strategy or an
 * invalid pathspec, as gitlab-runner fails the job's get_sources then.
 */
export function submoduleSettings(vars: readonly JobVariable[], gitDepth: number): SubmoduleSettings {
  const none: SubmoduleSettings = { strategy: 'none', paths: [], depth: 0, updateFlags: [], forceHttps: false, warnings: [] };
  const gitStrategy = variableValue(vars, 'GIT_STRATEGY');
  const raw = variableValue(vars, 'GIT_SUBMODULE_STRATEGY') ?? '';
  // The fast path (berth run's default): one look-up, nothing else read.
  if (raw === '' || raw === 'none' || gitStrategy === 'none' || gitStrategy === 'empty') return none;
  if (raw !== 'normal' && raw !== 'recursive') {
    throw new SubmoduleSettingsError(`unknown GIT_SUBMODULE_STRATEGY: expected either 'normal', 'recursive' or 'none' got ${JSON.stringify(raw)}`);
  }
  const warnings: string[] = [];
  const paths = fields(variableValue(vars, 'GIT_SUBMODULE_PATHS'));
  if (paths.includes(':(exclude)')) {
    throw new SubmoduleSettingsError(
      `GIT_SUBMODULE_PATHS: invalid submodule pathspec ${JSON.stringify(paths.join(' '))}: write ":(exclude)path" without a space (or ":!path")`,
    );
  }
  let depth = gitDepth;
  const rawDepth = variableValue(vars, 'GIT_SUBMODULE_DEPTH') ?? '';
  if (rawDepth !== '') {
    if (/^[+-]?\d+$/.test(rawDepth)) depth = Math.max(0, Number(rawDepth));
    else warnings.push(`GIT_SUBMODULE_DEPTH: expected int got ${JSON.stringify(rawDepth)}, using default value: ${gitDepth}`);
  }
  let forceHttps = false;
  const rawForce = variableValue(vars, 'GIT_SUBMODULE_FORCE_HTTPS') ?? '';
  if (rawForce !== '') {
    const parsed = parseGoBool(rawForce);
    if (parsed === null) warnings.push(`GIT_SUBMODULE_FORCE_HTTPS: expected bool got ${JSON.stringify(rawForce)}, using default value: false`);
    else forceHttps = parsed;
  }
  return { strategy: raw, paths, depth, updateFlags: fields(variableValue(vars, 'GIT_SUBMODULE_UPDATE_FLAGS')), forceHttps, warnings };
}

/** Go's strings.Fields. */
function fields(value: string | undefined): string[] {
  return (value ?? '').split(/\s+/).filter(Boolean);
}

