/**
 * The closing `]` or `}` of a flow collection written less indented than the collection's key
 * (cryptsetup's `- DISABLE_FLAGS: [` ... `      ]`): libyaml, which GitLab's YAML parser (Psych)
 * uses, does not check indentation inside flow collections and accepts it. The yaml package
 * reports it (BAD_INDENT at the bracket) and, when more keys follow, loses track of the rest of
 * the document. Whitespace before a closing bracket means nothing inside a flow collection, so
 * berth moves each such bracket right, to the end column of the line before it (which is
 * always indented enough: the opening line or an item of the collection), and parses again.
 * Only those lines change, and line numbers do not.
 */
import type { YAMLError } from 'yaml';

const FLOW_INDENT = /^Flow (sequence|map|mapping) in block collection must be sufficiently indented/;

/** The text with the flagged closing brackets indented enough, or null when no error is such a bracket. */
export function indentFlowEnds(text: string, errors: readonly YAMLError[]): string | null {
  const offsets = new Set<number>();
  for (const err of errors) {
    if (err.code !== 'BAD_INDENT' || !FLOW_INDENT.test(err.message)) continue;
    const at = err.pos[0];
    if (text[at] !== ']' && text[at] !== '}') continue;
    const lineStart = text.lastIndexOf('\n', at - 1) + 1;
    if (/^[ \t]*$/.test(text.slice(lineStart, at))) offsets.add(at);
  }
  let out = text;
  let changed = false;
  // From the end, so that earlier offsets stay valid.
  for (const at of [...offsets].sort((a, b) => b - a)) {
    const lineStart = out.lastIndexOf('\n', at - 1) + 1;
    const target = previousLineWidth(out, lineStart);
    const current = at - lineStart;
    if (target <= current) continue;
    out = `${out.slice(0, lineStart)}${' '.repeat(target)}${out.slice(at)}`;
    changed = true;
  }
  return changed ? out : null;
}

/** The width (without trailing blanks) of the nearest line before `lineStart` that is neither blank nor a comment. */
function previousLineWidth(text: string, lineStart: number): number {
  let end = lineStart - 1;
  while (end > 0) {
    const start = text.lastIndexOf('\n', end - 1) + 1;
    const line = text.slice(start, end).replace(/\r$/, '');
    const trimmed = line.trimStart();
    if (trimmed !== '' && !trimmed.startsWith('#')) return line.trimEnd().length;
    end = start - 1;
  }
  return 0;
}
