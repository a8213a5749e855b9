/**
 * The artifacts statement gitlab-runner's artifacts uploader adds to a zip archive when
 * RUNNER_GENERATE_ARTIFACTS_METADATA is true (commands/helpers/artifact_metadata.go,
 * generateStatementToFile): an in-toto Statement whose subjects are the regular files archived
 * (name and sha256 of their content) and whose predicate is SLSA provenance v1 (the job, the
 * runner and the repository it built).
 *
 * Secrets: the statement names the job's variables, never their values.
 *
 * Layout: gitlab-runner writes it with protojson (one-space indentation): the Statement's fields
 * in their proto order, maps and the predicate (a google.protobuf.Struct) with their keys
 * sorted, empty proto fields left out (a statement without subjects has no `subject`, a
 * resolved dependency without a URL no `uri`), timestamps in UTC to the second.
 */
import { isoSeconds } from '../shared/iso-seconds.js';

/** in_toto.StatementInTotoV01, the `_type` gitlab-runner writes (its proto is Statement v1). */
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v0.1';
/** slsa_v1.PredicateSLSAProvenance. */
export const PREDICATE_TYPE = 'https://slsa.dev/provenance/v1';
/** The one SLSA provenance version gitlab-runner writes (SLSA_PROVENANCE_SCHEMA_VERSION). */
export const SLSA_PROVENANCE_V1 = 'v1';

/** What the statement says about the job: gitlab-runner's flags (shells/abstract.go generateArtifactsMetadataArgs). */
export interface StatementFacts {
  /** --runner-id: the runner's id at GitLab, in decimal. */
  runnerId: string;
  /** --repo-url: the repository's URL, without credentials and `.git`. */
  repoUrl: string;
  /** --repo-digest: the commit built. */
  repoDigest: string;
  /** --job-name. */
  jobName: string;
  /** --executor-name. */
  executorName: string;
  /** --runner-name. */
  runnerName: string;
  /** --metadata-parameter: the name of each job variable (values are never written). */
  parameters: readonly string[];
  /** --started-at, --ended-at (written to the second). */
  startedAt: Date;
  endedAt: Date;
  /** --id: the job's id. */
  jobId: number;
  /** GOARCH of the runner. */
  architecture: string;
  /**
   * The runner program and its version: builder.version's one entry and the version in the
   * buildType URL (gitlab-runner: `gitlab-runner` and its own version).
   */
  builder: { name: string; version: string };
}

export interface StatementSubject {
  /** The file's path in the archive. */
  name: string;
  digest: { sha256: string };
}

/** The statement as written (fields in gitlab-runner's order). */
export interface ArtifactsStatement {
  _type: string;
  subject?: StatementSubject[];
  predicateType: string;
  predicate: {
    buildDefinition: {
      buildType: string;
      externalParameters: Record<string, string>;
      internalParameters: { architecture: string; executor: string; job: string; name: string };
      resolvedDependencies: { digest: { sha256: string }; uri?: string }[];
    };
    runDetails: {
      builder: { id: string; version: Record<string, string> };
      metadata: { finishedOn: string; invocationId: string; startedOn: string };
    };
  };
}

/** The statement's file: `<artifact name>-metadata.json` (artifactsStatementFormat). */
export function statementFileName(artifactName: string): string {
  return `${artifactName}-metadata.json`;
}

/**
 * The warning gitlab-runner prints for a SLSA_PROVENANCE_SCHEMA_VERSION other than v1 (an
 * unset variable is passed as `unknown`, so it warns then too); null for v1.
 */
export function schemaVersionWarning(schemaVersion: string): string | null {
  if (schemaVersion === SLSA_PROVENANCE_V1) return null;
  return `Unknown SLSA provenance version ${schemaVersion || 'unknown'}, defaulting to ${SLSA_PROVENANCE_V1}`;
}

/** The statement for `subjects` (generateStatementToFile, generateSLSAv1Predicate). */
export function buildArtifactsStatement(facts: StatementFacts, subjects: readonly StatementSubject[]): ArtifactsStatement {
  // externalParams: every parameter name with an empty value, then entryPoint and source (which win).
  const external = new Map<string, string>(facts.parameters.map((p) => [p, '']));
  external.set('entryPoint', facts.jobName);
  external.set('source', facts.repoUrl);
  const jobId = String(facts.jobId);
  return {
    _type: STATEMENT_TYPE,
    ...(subjects.length > 0 ? { subject: subjects.map((s) => ({ name: s.name, digest: { sha256: s.digest.sha256 } })) } : {}),
    predicateType: PREDICATE_TYPE,
    predicate: {
      buildDefinition: {
        buildType: `https://gitlab.com/gitlab-org/gitlab-runner/-/blob/${facts.builder.version}/PROVENANCE.md`,
        // fromEntries: a variable named `__proto__` stays a key like any other
        externalParameters: Object.fromEntries(external),
        internalParameters: { architecture: facts.architecture, executor: facts.executorName, job: jobId, name: facts.runnerName },
        resolvedDependencies: [{ digest: { sha256: facts.repoDigest }, ...(facts.repoUrl ? { uri: facts.repoUrl } : {}) }],
      },
      runDetails: {
        builder: { id: `${facts.repoUrl}/-/runners/${facts.runnerId}`, version: { [facts.builder.name]: facts.builder.version } },
        metadata: { finishedOn: isoSeconds(facts.endedAt), invocationId: jobId, startedOn: isoSeconds(facts.startedAt) },
      },
    },
  };
}

/** The statement as gitlab-runner writes it: protojson, multi-line, one space per level. */
export function renderArtifactsStatement(statement: ArtifactsStatement): string {
  const fields: [string, string][] = [['_type', render(statement._type, 1, false)]];
  // a subject's fields in proto order (name, digest); its digest map has one key
  if (statement.subject) fields.push(['subject', render(statement.subject, 1, false)]);
  fields.push(['predicateType', render(statement.predicateType, 1, false)], ['predicate', render(statement.predicate, 1, true)]);
  return `{\n${fields.map(([k, v]) => ` ${JSON.stringify(k)}: ${v}`).join(',\n')}\n}`;
}

/** JSON with one space of indentation per level; `sortKeys`: in byte order, as protojson writes a map or a Struct. */
function render(value: unknown, depth: number, sortKeys: boolean): string {
  if (typeof value === 'string') return JSON.stringify(value);
  const pad = ' '.repeat(depth + 1);
  const end = ' '.repeat(depth);
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((v) => pad + render(v, depth + 1, sortKeys)).join(',\n')}\n${end}]`;
  }
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (sortKeys) keys.sort(byteOrder);
  if (keys.length === 0) return '{}';
  return `{\n${keys.map((k) => `${pad}${JSON.stringify(k)}: ${render(obj[k], depth + 1, sortKeys)}`).join(',\n')}\n${end}}`;
}

/** Go's string order (UTF-8 bytes); JavaScript's `<` compares UTF-16 units. */
function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
