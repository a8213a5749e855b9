/**
 * The two parts of a runner config.toml that decide registry credentials: `[[runners]]
 * environment` (a runner-level DOCKER_AUTH_CONFIG) and `[runners.docker]
 * allowed_credential_helpers`. A minimal reader for `berth auth explain --config`; errors never
 * quote the file (it holds runner tokens).
 */
import { parse } from 'smol-toml';
import { InputError } from '../../shared/errors.js';

export interface RunnerAuthConfig {
  runnerName: string;
  environment: string[];
  allowedCredentialHelpers: string[];
  /** Said to the user when a runner was chosen among several. */
  note: string;
}

type Table = Record<string, unknown>;
const isTable = (v: unknown): v is Table => typeof v === 'object' && v !== null && !Array.isArray(v);

export function readRunnerAuthConfig(text: string, file: string, runnerName?: string): RunnerAuthConfig {
  let doc: Table;
  try {
    doc = parse(text);
  } catch (err) {
    const e = err as { line?: number; column?: number };
    const where = e.line ? ` (line ${e.line}, column ${e.column ?? 0})` : '';
    throw new InputError(`${file} is not valid TOML${where}`, { file, ...(e.line ? { line: e.line } : {}) });
  }
  const runners = Array.isArray(doc.runners) ? doc.runners.filter(isTable) : [];
  if (!runners.length) throw new InputError(`${file} has no [[runners]] section`, { file, key: 'runners' });
  const names = runners.map((r, i) => (typeof r.name === 'string' && r.name ? r.name : `#${i + 1}`));
  const index = runnerName === undefined ? 0 : names.indexOf(runnerName);
  if (index < 0) {
    throw new InputError(`${file} has no runner named "${runnerName}" (it has ${names.map((n) => `"${n}"`).join(', ')})`, { file, key: 'runners.name' });
  }
  const runner = runners[index]!;
  const docker = isTable(runner.docker) ? runner.docker : {};
  return {
    runnerName: names[index]!,
    environment: strings(runner.environment, file, 'runners.environment'),
    allowedCredentialHelpers: strings(docker.allowed_credential_helpers, file, 'runners.docker.allowed_credential_helpers'),
    note: runners.length > 1 && runnerName === undefined ? `${file} has ${runners.length} runners; using the first, "${names[0]}" (choose with --runner)` : '',
  };
}

function strings(value: unknown, file: string, key: string): string[] {
  if (value === undefined) return [];
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value;
  throw new InputError(`${file}: ${key} must be a list of strings`, { file, key });
}
