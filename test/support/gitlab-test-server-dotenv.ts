/**
 * GitLab's dotenv report parsing, as the test server does it inside the upload request
 * (GL app/services/ci/parse_dotenv_artifact_service.rb, app/models/concerns/ci/has_variable.rb):
 * the stored `.gz` must be smaller than the plan's dotenv_size (5120), every line of every
 * gzip member must match `^(.*?)=(.*)$` (key and value stripped, quotes kept), keys are
 * `[a-zA-Z0-9_]{1,255}`, the last duplicate wins, and at most dotenv_variables (150) remain.
 * A failure is GitLab's 400 message.
 */
import { gunzipSync } from 'node:zlib';

export const DOTENV_SIZE_LIMIT = 5120;
export const DOTENV_VARIABLES_LIMIT = 150;

export type DotenvResult = { ok: true; variables: { key: string; value: string }[] } | { ok: false; message: string };

export function parseDotenvArtifact(gz: Buffer, limits = { size: DOTENV_SIZE_LIMIT, variables: DOTENV_VARIABLES_LIMIT }): DotenvResult {
  if (!(gz.length < limits.size)) return { ok: false, message: `Dotenv Artifact Too Big. Maximum Allowable Size: ${limits.size}` };
  let text: string;
  try {
    // zlib reads every member of a multi-member gzip stream (one member per file).
    text = decodeBlob(gunzipSync(gz));
  } catch {
    return { ok: false, message: 'Invalid Format' };
  }
  const vars = new Map<string, string>();
  // Ruby's each_line: every line keeps its newline; no empty line after the last newline.
  for (const line of text.split(/(?<=\n)/)) {
    if (line === '') continue;
    const m = /^(.*?)=(.*)$/m.exec(line);
    if (!m) return { ok: false, message: 'Invalid Format' };
    // Each member was converted on its own; a BOM may start any of them.
    const key = m[1]!.replace(/^\uFEFF/, '').trim();
    const value = m[2]!.trim();
    if (!/^[a-zA-Z0-9_]+$/.test(key) || key.length > 255) {
      return { ok: false, message: "Validation failed: Key can contain only letters, digits and '_'." };
    }
    // A Ruby hash: a repeated key keeps its first position, with the last value.
    vars.set(key, value);
  }
  if (vars.size > limits.variables) return { ok: false, message: `Dotenv files cannot have more than ${limits.variables} variables` };
  return { ok: true, variables: [...vars].map(([key, value]) => ({ key, value })) };
}

/** UTF-8, or UTF-16LE with its BOM (PowerShell's Out-File), BOM stripped. */
function decodeBlob(bytes: Buffer): string {
  if (bytes[0] === 0xff && bytes[1] === 0xfe) return bytes.subarray(2).toString('utf16le');
  return new TextDecoder('utf-8', { fatal: true }).decode(bytes).replace(/^\uFEFF/, '');
}
