/**
 * `include:component: <fqdn>/<project path>/<component>@<version>` as GitLab reads it: the
 * project at the version (a tag, branch or commit; `~latest` is the highest released semver
 * tag, `1` or `1.2` the highest tag of that major or minor), and in it
 * `templates/<component>.yml`, else `templates/<component>/template.yml`.
 */
import { locationPrefix, type Where } from './source-positions.js';
import { InputError } from '../../shared/errors.js';

export interface ComponentAddress {
  fqdn: string;
  project: string;
  name: string;
  version: string;
}

export function parseComponentAddress(address: string, where: Where | undefined): ComponentAddress {
  const m = /^([^/@\s]+)\/([^@\s]+)\/([^/@\s]+)@([^@\s]+)$/.exec(address);
  if (!m) {
    throw new InputError(
      `${locationPrefix(where)}include:component "${address}" is not <fqdn>/<project path>/<component name>@<version> (e.g. $CI_SERVER_FQDN/my-group/components/lint@1.0.0)`,
      { file: where?.file, line: where?.line },
    );
  }
  return { fqdn: m[1]!, project: m[2]!, name: m[3]!, version: m[4]! };
}

/** The paths a component may live at, in GitLab's order. */
export function componentPaths(name: string): string[] {
  return [`templates/${name}.yml`, `templates/${name}/template.yml`];
}

/** Whether the version needs the tag list: `~latest`, `1`, `1.2`. */
export function isVersionPattern(version: string): boolean {
  return version === '~latest' || /^\d+(\.\d+)?$/.test(version);
}

/** The highest released semver tag matching `~latest`, `1` or `1.2`; null when none does. */
export function pickComponentVersion(version: string, tags: readonly string[]): string | null {
  const prefix = version === '~latest' ? [] : version.split('.').map(Number);
  let best: { tag: string; parts: number[] } | null = null;
  for (const tag of tags) {
    const m = /^v?(\d+)\.(\d+)\.(\d+)$/.exec(tag);
    if (!m) continue;
    const parts = [Number(m[1]), Number(m[2]), Number(m[3])];
    if (prefix.some((p, i) => parts[i] !== p)) continue;
    if (!best || compare(parts, best.parts) > 0) best = { tag, parts };
  }
  return best?.tag ?? null;
}

function compare(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}
