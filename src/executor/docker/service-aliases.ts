/**
 * Network aliases of a service (gitlab-runner helpers/container/services): derived from the
 * image name (tag, digest and registry port stripped; "/" replaced by "__" and by "-"), then
 * the user's aliases. An alias another service of the job already holds is skipped with a
 * warning, but the service itself is always created (gitlab-runner silently drops it).
 */

/** `domain.tld:8080/ns/svc:1.2@sha256:...` → `domain.tld/ns/svc`. */
export function imagePathForAlias(image: string): string {
  let name = image.split('@')[0]!;
  const lastSlash = name.lastIndexOf('/');
  const colon = name.indexOf(':', lastSlash + 1);
  if (colon >= 0) name = name.slice(0, colon);
  const parts = name.split('/');
  if (parts.length > 1 && /[.:]|^localhost(:|$)/.test(parts[0]!)) parts[0] = parts[0]!.replace(/:\d+$/, '');
  return parts.join('/');
}

export function derivedAliases(image: string): string[] {
  const path = imagePathForAlias(image);
  const a1 = path.replace(/\//g, '__');
  const a2 = path.replace(/\//g, '-');
  return a1 === a2 ? [a1] : [a1, a2];
}

/** The version part for `Starting service <name>:<version>...`. */
export function imageVersion(image: string): { name: string; version: string } {
  const at = image.indexOf('@');
  if (at >= 0) return { name: image.slice(0, at), version: image.slice(at) };
  const lastSlash = image.lastIndexOf('/');
  const colon = image.indexOf(':', lastSlash + 1);
  if (colon >= 0) return { name: image.slice(0, colon), version: `:${image.slice(colon + 1)}` };
  return { name: image, version: ':latest' };
}

export interface AliasAssignment {
  aliases: string[];
  skipped: string[];
}

/** Hands out aliases in service order; `taken` is shared across the job's services. */
export function assignAliases(image: string, userAliases: readonly string[], taken: Set<string>): AliasAssignment {
  const wanted = [...derivedAliases(image), ...userAliases].filter((a) => a !== '');
  const aliases: string[] = [];
  const skipped: string[] = [];
  for (const alias of wanted) {
    if (aliases.includes(alias)) continue;
    if (taken.has(alias)) skipped.push(alias);
    else {
      taken.add(alias);
      aliases.push(alias);
    }
  }
  return { aliases, skipped };
}
