/**
 * `allowed_images` / `allowed_services` (gitlab-runner common/allowed_images.go): doublestar globs matched against the
 * image name as written after variable expansion (`*` stays inside one `/` segment, `**`
 * crosses it). No normalisation: `ruby` is not `docker.io/library/ruby`, which fails closed.
 * An empty list allows everything; the runner's own config images are always allowed.
 * A leading `!` is a literal character, not a negation (gitlab-runner has none either).
 */
import picomatch from 'picomatch';
import { familiarName, canonicalReference, parseImageRef } from './image-ref.js';

export interface AllowedImageCheck {
  /** The expanded image name. */
  image: string;
  /** "images" or "services": the option is allowed_<kind>. */
  kind: 'images' | 'services';
  patterns: readonly string[];
  /** Images from the runner config, always allowed. */
  internal: readonly string[];
}

export type AllowedImageResult = { allowed: true } | { allowed: false; lines: LogLine[] };
export type LogLine = { level: 'println' | 'error'; text: string };

export function globMatches(value: string, pattern: string): boolean {
  return picomatch.isMatch(value, pattern, { dot: true, nonegate: true, noextglob: true });
}

export function checkAllowedImage(check: AllowedImageCheck): AllowedImageResult {
  if (check.patterns.some((p) => globMatches(check.image, p))) return { allowed: true };
  if (check.internal.includes(check.image) || !check.patterns.length) return { allowed: true };
  const lines: LogLine[] = [
    { level: 'println', text: '' },
    { level: 'error', text: `The "${check.image}" image is not present on list of allowed ${check.kind}:` },
    ...check.patterns.map((p) => ({ level: 'println' as const, text: `- ${p}` })),
    { level: 'println', text: '' },
  ];
  const hint = spellingHint(check.image, check.patterns);
  if (hint) lines.push({ level: 'println', text: hint });
  lines.push({
    level: 'println',
    text: `Please check runner's allowed_images configuration: https://docs.gitlab.com/runner/configuration/advanced-configuration/`,
  });
  return { allowed: false, lines };
}

/** When another spelling of the same image would match, say so (the usual surprise). */
function spellingHint(image: string, patterns: readonly string[]): string | null {
  let ref;
  try {
    ref = parseImageRef(image);
  } catch {
    return null;
  }
  if (ref.kind !== 'named') return null;
  const spellings = [canonicalReference(ref), `${familiarName(ref)}${ref.tag ? `:${ref.tag}` : ''}${ref.digest ? `@${ref.digest}` : ''}`];
  const other = spellings.find((s) => s !== image && patterns.some((p) => globMatches(s, p)));
  return other
    ? `Note: patterns match the name as written; "${other}" (the same image, spelled differently) would be allowed.`
    : null;
}
