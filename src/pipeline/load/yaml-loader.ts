/**
 * Reads one .gitlab-ci.yml (or included) file into plain values with positions.
 * Syntax errors and oversized files are InputErrors naming file, line and column. A key
 * written twice in one map is a warning and the last one wins, as with GitLab's YAML parser.
 */
import { LineCounter, parseAllDocuments, type Document, type ScalarTag, type Tags, type YAMLError } from 'yaml';
import { indentFlowEnds } from './indent-flow-ends.js';
import { FsGuardError, readRegularFile } from '../../fs-guard/index.js';
import { InputError } from '../../shared/errors.js';
import { configError, type SourcePositions, type Where } from './source-positions.js';
import { convertDocument, DEFAULT_YAML_LIMITS, type YamlLimits } from './yaml-converter.js';
import { isMap, type YamlMap, type YamlValue } from './yaml-value.js';

export interface LoadedYaml {
  value: YamlValue;
  /** Non-fatal notes, already prefixed with `file:line:`. */
  warnings: string[];
  /** The `spec:` header document (CI/CD inputs), when the file has one. */
  spec?: { value: YamlMap; where: Where | undefined };
}

const REFERENCE_TAG = { tag: '!reference', collection: 'seq' as const, default: false, resolve: (seq: unknown) => seq };
/**
 * Psych's float with an exponent (ScalarScanner FLOAT, YAML 1.1): a dot and a signed exponent
 * (`1.5e+3`). The yaml package's YAML 1.1 schema also takes `1e3`, `1.5e3` and even `e2` (as
 * NaN), which Psych, and so GitLab, read as strings: a job named `e2` became "NaN". A digit
 * next to the dot is required here (`.e+3` would be NaN too; Psych refuses it).
 */
const PSYCH_FLOAT_EXP = /^[-+]?(?:[0-9][0-9_]*\.[0-9]*|\.[0-9]+)[eE][-+][0-9]+$/;
function psychTags(tags: Tags): Tags {
  const isExpFloat = (t: Tags[number]): t is ScalarTag => typeof t !== 'string' && !t.collection && t.tag === 'tag:yaml.org,2002:float' && t.format === 'EXP';
  return [...tags.map((t) => (isExpFloat(t) ? { ...t, test: PSYCH_FLOAT_EXP } : t)), REFERENCE_TAG];
}

export async function loadYamlFile(
  file: string,
  display: string,
  positions: SourcePositions,
  limits: YamlLimits = DEFAULT_YAML_LIMITS,
): Promise<LoadedYaml> {
  let bytes: Buffer;
  try {
    // Never reads a device or FIFO (/dev/zero, a pipe) and stops at the size limit.
    bytes = await readRegularFile(file, { maxBytes: limits.maxBytes });
  } catch (err) {
    const cause = err instanceof FsGuardError && err.reason === 'io' ? (err.cause as NodeJS.ErrnoException | undefined) : undefined;
    if (cause?.code === 'ENOENT') {
      throw new InputError(`${display}: ${file} does not exist; run berth exec in the project directory or name the file with --file`, { file }, { cause: err });
    }
    if (err instanceof FsGuardError && err.reason === 'too-large') {
      throw new InputError(`${display}: the file is ${err.size ?? limits.maxBytes + 1} bytes, more than the limit of ${limits.maxBytes} bytes (4 MiB); split it with include`, { file }, { cause: err });
    }
    if (err instanceof FsGuardError && err.reason === 'not-regular') {
      const named = display === file ? file : `${display} (${file})`;
      throw new InputError(`${named} is ${err.kind ?? 'a special file'}, not a regular file; a pipeline file or include must be a YAML file`, { file }, { cause: err });
    }
    if (err instanceof FsGuardError) throw new InputError(`${display}: ${err.message}`, { file }, { cause: err });
    throw err;
  }
  const text = bytes.toString('utf8');
  return parseYamlText(text, file, display, positions, limits);
}

export function parseYamlText(
  text: string,
  file: string,
  display: string,
  positions: SourcePositions,
  limits: YamlLimits = DEFAULT_YAML_LIMITS,
): LoadedYaml {
  let { list, lineCounter } = parseDocuments(text);
  // Closing brackets libyaml (GitLab) accepts less indented: indented enough, parsed again.
  for (let round = 0; round < 100 && list.some((d) => d.errors.length > 0); round++) {
    const fixed = indentFlowEnds(text, list.flatMap((d) => d.errors));
    if (fixed === null) break;
    text = fixed;
    ({ list, lineCounter } = parseDocuments(text));
  }
  for (const doc of list) {
    const error = doc.errors[0];
    if (error) throw syntaxError(error, file, display);
  }
  const { doc, spec } = pickDocument(list, file, display, lineCounter, positions, limits);
  const warnings = (doc?.warnings ?? []).map((w) => `${display}:${w.linePos?.[0]?.line ?? 1}: ${firstLine(w.message)}`);
  if (!doc) return { value: null, warnings, spec };
  const value = convertDocument({ doc, lineCounter, file, display, positions, limits, warnings });
  return { value, warnings, spec };
}

function parseDocuments(text: string): { list: Document.Parsed[]; lineCounter: LineCounter } {
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, {
    version: '1.1',
    lineCounter,
    customTags: psychTags,
    uniqueKeys: false,
    prettyErrors: true,
  });
  return { list: Array.isArray(docs) ? docs : [], lineCounter };
}

/** A file may start with a `spec:` header document (CI/CD inputs); the config is the next one. */
function pickDocument(
  docs: Document.Parsed[],
  file: string,
  display: string,
  lineCounter: LineCounter,
  positions: SourcePositions,
  limits: YamlLimits,
): { doc: Document.Parsed | undefined; spec?: LoadedYaml['spec'] } {
  if (docs.length <= 1) return { doc: docs[0] };
  const header = convertDocument({ doc: docs[0]!, lineCounter, file, display, positions, limits });
  const isSpecHeader = isMap(header) && Object.keys(header).length === 1 && 'spec' in header;
  if (!isSpecHeader || docs.length > 2) {
    throw configError(
      { file, display, line: lineCounter.linePos(docs[1]!.range[0]).line },
      'more than one YAML document in the file; only a `spec:` header followed by one configuration document is allowed',
    );
  }
  const spec = header.spec;
  if (!isMap(spec)) throw configError(positions.key(header, 'spec'), 'spec must be a map (inputs)', 'spec');
  return { doc: docs[1], spec: { value: spec, where: positions.key(header, 'spec') } };
}

function syntaxError(error: YAMLError, file: string, display: string): InputError {
  const pos = error.linePos?.[0] ?? { line: 1, col: 1 };
  let what = firstLine(error.message);
  if (error.code === 'RESOURCE_EXHAUSTION') {
    what = 'the YAML is nested too deeply to parse';
  }
  return new InputError(`${display}:${pos.line}:${pos.col}: YAML syntax error: ${what}`, { file, line: pos.line });
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}
