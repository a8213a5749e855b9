/**
 * RUNNER_GENERATE_ARTIFACTS_METADATA: the artifacts statement (`<name>-metadata.json`, an
 * in-toto statement with an SLSA provenance v1 predicate) appended to a zip archive, as
 * gitlab-runner's artifacts uploader does (shells/abstract.go shouldGenerateArtifactsMetadata,
 * generateArtifactsMetadataArgs; commands/helpers/artifacts_uploader.go Execute). Off (null):
 * the archive's entries are not touched at all.
 *
 * Where each fact comes from, `berth run` / `berth exec`:
 * - runner id: the job's CI_RUNNER_ID (GitLab sends it) / none, so the runner's id: 0;
 * - repository URL: the job's repo_url, credentials, query, fragment and `.git` removed / the
 *   local repository's remote (credentials already removed), or the project URL berth made up;
 * - commit: the job's sha / the local HEAD the pipeline was made from;
 * - job name and id: GitLab's / the job's name and berth exec's job number;
 * - executor: `docker`, berth's only executor; runner name: `[[runners]] name` / "berth-exec";
 * - started: when runJob took the job; ended: when the upload stage began (gitlab-runner
 *   writes `time.Now()` into the stage's script);
 * - parameters: the names of the job's variables (its payload / what the pipeline gave it),
 *   never their values;
 * - SLSA_PROVENANCE_SCHEMA_VERSION and RUNNER_GENERATE_ARTIFACTS_METADATA: read from the job's
 *   variables (gitlab-runner's Build.Variables), not from `[[runners]] environment`.
 */
import { appendStatement } from '../../artifacts/append-statement.js';
import { buildArtifactsStatement, renderArtifactsStatement, schemaVersionWarning, statementFileName, type StatementFacts } from '../../artifacts/artifacts-statement.js';
import type { FileEntrySource } from '../../artifacts/file-entry.js';
import { matchDoublestar } from '../../artifacts/doublestar.js';
import { cleanPath, relativeToProject } from '../../artifacts/project-pattern.js';
import type { ArtifactFormat } from '../../job/artifact-types.js';
import { variableValue } from '../../job/variables.js';
import type { JobLog } from '../../log/job-log.js';
import { goArch } from '../../shared/go-arch.js';
import { goVariableBool } from '../../shared/go-bool.js';
import type { StageContext } from './stage-context.js';

export const GENERATE_ARTIFACTS_METADATA = 'RUNNER_GENERATE_ARTIFACTS_METADATA';

/** berth's only executor (the `executor` it registers with). */
const EXECUTOR_NAME = 'docker';

export interface ArtifactsMetadata {
  /** The statement goes into the archive (so the archive is never empty, as gitlab-runner's file list then is not). */
  archived: boolean;
  /** `entries` with each regular file hashed on its way and the statement appended (log: its lines). */
  wrap(entries: FileEntrySource, log: JobLog): FileEntrySource;
}

/**
 * The statement's maker for one artifact, or null when none is made: the variable is not true,
 * or the archive is not a zip (gitlab-runner: "only zip artifacts are supported as artifact
 * metadata effectively adds another file to the archive").
 */
export function artifactsMetadataFor(
  ctx: StageContext,
  req: { format: ArtifactFormat; name: string; exclude: readonly string[]; endedAt: Date },
): ArtifactsMetadata | null {
  const vars = ctx.job.variables;
  if (req.format !== 'zip' || !goVariableBool(variableValue(vars, GENERATE_ARTIFACTS_METADATA))) return null;
  const facts: StatementFacts = {
    runnerId: runnerIdOf(variableValue(vars, 'CI_RUNNER_ID'), ctx.run.runnerId),
    repoUrl: repoUrlOf(ctx.job.gitInfo.repoUrl),
    repoDigest: ctx.job.gitInfo.sha,
    jobName: ctx.job.jobInfo.name,
    executorName: EXECUTOR_NAME,
    runnerName: ctx.run.runnerName,
    parameters: vars.map((v) => v.key),
    startedAt: ctx.run.startedAt,
    endedAt: req.endedAt,
    jobId: ctx.job.id,
    architecture: goArch(),
    builder: { name: 'berth', version: ctx.run.version },
  };
  const warning = schemaVersionWarning(variableValue(vars, 'SLSA_PROVENANCE_SCHEMA_VERSION') ?? '');
  const path = statementPath(ctx.files.projectDir, req.name, req.exclude);
  return {
    archived: path.rel !== null,
    wrap: (entries, log) =>
      appendStatement(entries, {
        path: path.rel,
        statement: (subjects) => {
          log.println('Generating artifacts statement');
          if (warning) log.warning(warning);
          if (path.refused) log.warning(path.refused);
          return Buffer.from(renderArtifactsStatement(buildArtifactsStatement(facts, subjects)), 'utf8');
        },
      }),
  };
}

/**
 * Where the uploader's file list takes the statement (fileArchiver.process of
 * `<wd>/<name>-metadata.json`): its path relative to the project directory; or null with the
 * warning gitlab-runner prints when it is outside, or null when an `artifacts:exclude` pattern
 * matches it (silently, as there).
 */
function statementPath(projectDir: string, name: string, exclude: readonly string[]): { rel: string | null; refused: string } {
  const wd = cleanPath(projectDir);
  const abs = cleanPath(`${wd}/${statementFileName(name)}`);
  const rel = abs.startsWith(`${wd}/`) ? abs.slice(wd.length + 1) : wd === '/' ? abs.slice(1) : '';
  if (rel === '' || rel === '.' || rel.startsWith('../')) return { rel: null, refused: `${abs}: not supported: outside build directory` };
  for (const pattern of exclude) {
    const r = relativeToProject(pattern, projectDir);
    // fileArchiver.isExcluded stops at an exclude it cannot resolve: nothing is excluded
    if (!r.ok) break;
    if (matchDoublestar(r.rel, rel)) return { rel: null, refused: '' };
  }
  return { rel, refused: '' };
}

/** CI_RUNNER_ID when it is a number, else the runner's own id. */
function runnerIdOf(variable: string | undefined, own: number): string {
  if (variable !== undefined && /^\d+$/.test(variable)) return BigInt(variable).toString();
  return String(own);
}

/**
 * The repository's URL as gitlab-runner writes it (`strings.TrimSuffix(RepoCleanURL(), ".git")`:
 * url_helpers.CleanURL drops the user info, query and fragment). A URL without a scheme (a local
 * path, `git@host:group/project.git`) is kept as it is, without `.git`: GitLab always sends an
 * http(s) URL, and such a form carries no password.
 */
function repoUrlOf(repoUrl: string): string {
  let clean = repoUrl;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(repoUrl)) {
    try {
      const u = new URL(repoUrl);
      u.username = '';
      u.password = '';
      u.search = '';
      u.hash = '';
      clean = u.toString();
    } catch {
      // not a URL after all: gitlab-runner's CleanURL gives '' then
      clean = '';
    }
  }
  return clean.endsWith('.git') ? clean.slice(0, -'.git'.length) : clean;
}
