/**
 * `artifacts:reports:dotenv` as GitLab reads it when the runner uploads it: the runner does not
 * parse it; GitLab parses it inside the upload request and answers 400 with the message on a
 * failure (app/services/ci/parse_dotenv_artifact_service.rb, called from
 * app/services/ci/job_artifacts/create_service.rb). berth applies the same rules so that
 * `berth exec` hands the same variables to later jobs, and fails the same way.
 */
import { BerthError } from '../shared/errors.js';

/** A dotenv report GitLab would refuse; `message` is GitLab's own text. */
export class DotenvReportError extends BerthError {
  constructor(message: string) {
    super('dotenv_report_invalid', message);
  }
}

/**
 * GitLab's plan limits `dotenv_size` (bytes of the stored `.env.gz`, default 5120) and
 * `dotenv_variables` (default plan 150; earlier versions 20; GitLab.com free 50, premium 100).
 */
export interface DotenvLimits {
  maxBytes: number;
  maxVariables: number;
}

export const DEFAULT_DOTENV_LIMITS: DotenvLimits = { maxBytes: 5120, maxVariables: 150 };

export interface DotenvVariable {
  key: string;
  value: string;
}

// Ruby's String#strip: ASCII whitespace and NUL, at both ends (nothing else).
const RUBY_STRIP = /^[\0\t\n\v\f\r ]+|[\0\t\n\v\f\r ]+$/g;

// app/models/concerns/ci/has_variable.rb: `validates :key, presence, length <= 255, format`.
const KEY_FORMAT = /^[a-zA-Z0-9_]+$/;

/**
 * A blob as text the way GitLab's EncodingHelper#encode_utf8_with_replacement_character does it:
 * valid UTF-8 is kept as it is; otherwise the encoding is detected (CharlockHolmes/ICU) and
 * converted. Of the detection berth does the part that matters for dotenv files: UTF-16 with a
 * byte-order mark (PowerShell's `Out-File`/`>` writes UTF-16LE with a BOM). Other invalid UTF-8
 * is read as Windows-1252, which is what ICU detects for Latin text (an approximation).
 * The UTF-8 BOM is then stripped once (EncodingHelper#strip_bom).
 */
function blobText(blob: Buffer): string {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(blob);
  } catch {
    if (blob[0] === 0xff && blob[1] === 0xfe) text = new TextDecoder('utf-16le', { ignoreBOM: true }).decode(blob);
    else if (blob[0] === 0xfe && blob[1] === 0xff) text = new TextDecoder('utf-16be', { ignoreBOM: true }).decode(blob);
    else text = new TextDecoder('windows-1252').decode(blob);
  }
  return text.startsWith('\ufeff') ? text.slice(1) : text;
}

/** Ruby's `each_line`: split after each "\n", keeping no empty last line. */
function rubyLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (text.endsWith('\n')) lines.pop();
  return lines;
}

/** GitLab's model validation message for a key, or null when the key is valid. */
function keyValidationMessage(key: string): string | null {
  const errors: string[] = [];
  if (key === '') errors.push("Key can't be blank");
  if ([...key].length > 255) errors.push('Key is too long (maximum is 255 characters)');
  if (!KEY_FORMAT.test(key)) errors.push("Key can contain only letters, digits and '_'.");
  return errors.length === 0 ? null : `Validation failed: ${errors.join(', ')}`;
}

/**
 * The variables of a dotenv report, exactly as GitLab's Ci::ParseDotenvArtifactService reads it.
 *
 * - `storedSize` (bytes of the stored file, i.e. the uploaded `.env.gz`) must be below
 *   `maxBytes`, else `Dotenv Artifact Too Big. Maximum Allowable Size: N`.
 * - Each blob (gzip member, one per file) is read as text (UTF-8; UTF-16 with a BOM is
 *   converted) and its BOM stripped. Each line (split at "\n" only) must hold a `=`, else
 *   `Invalid Format`; a blank line is invalid too. The line splits at its first `=`
 *   (`^(.*?)=(.*)$`); key and value are stripped of ASCII whitespace and NUL, so a "\r" before
 *   "\n" goes away, while one inside the value stays. Quotes are kept, nothing is expanded,
 *   `#` is no comment.
 * - A later duplicate key replaces the value and keeps the first one's position.
 * - More than `maxVariables` distinct keys: `Dotenv files cannot have more than N variables`
 *   (checked before the keys are validated).
 * - Keys must match `/\A[a-zA-Z0-9_]+\z/` and have at most 255 characters:
 *   `Validation failed: Key can contain only letters, digits and '_'.` (the first bad key).
 *
 * Throws DotenvReportError carrying GitLab's message.
 */
export function parseDotenvReport(
  blobs: readonly Buffer[],
  storedSize: number,
  limits: DotenvLimits = DEFAULT_DOTENV_LIMITS,
): DotenvVariable[] {
  if (!(storedSize < limits.maxBytes)) {
    throw new DotenvReportError(`Dotenv Artifact Too Big. Maximum Allowable Size: ${limits.maxBytes}`);
  }
  const variables = new Map<string, string>();
  for (const blob of blobs) {
    for (const line of rubyLines(blobText(blob))) {
      const eq = line.indexOf('=');
      if (eq < 0) throw new DotenvReportError('Invalid Format');
      const key = line.slice(0, eq).replace(RUBY_STRIP, '');
      const value = line.slice(eq + 1).replace(RUBY_STRIP, '');
      variables.set(key, value);
    }
  }
  if (variables.size > limits.maxVariables) {
    throw new DotenvReportError(`Dotenv files cannot have more than ${limits.maxVariables} variables`);
  }
  for (const key of variables.keys()) {
    const message = keyValidationMessage(key);
    if (message !== null) throw new DotenvReportError(message);
  }
  return [...variables].map(([key, value]) => ({ key, value }));
}
