/**
 * `include:local` wildcards as GitLab matches them: `*` matches within one directory, `**`
 * matches across directories (`configs/**.yml` is every .yml under configs/). Matched
 * against the working tree (`.git/` skipped), sorted. Directories that are symbolic links are not
 * entered (GitLab sees a link as a file), and the folder before the first `*` must really be
 * inside the root: a `cfg -> /etc` link is refused. Matched links are checked by the reader.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveInside } from '../../fs-guard/index.js';

export function wildcardRegExp(pattern: string): RegExp {
  const escaped = pattern
    .split('**')
    .map((part) => part.split('*').map((s) => s.replace(/[\\^$.+?()[\]{}|]/g, '\\$&')).join('[^/]*'))
    .join('.*');
  return new RegExp(`^${escaped}$`);
}

export async function expandWildcard(pattern: string, root: string): Promise<string[]> {
  const re = wildcardRegExp(pattern);
  const star = pattern.indexOf('*');
  const prefix = pattern.slice(0, star);
  const baseDir = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
  const rest = pattern.slice(baseDir ? baseDir.length + 1 : 0);
  const maxDepth = pattern.includes('**') ? Infinity : rest.split('/').length;
  const found: string[] = [];
  const realBase = await resolveInside(root, join(root, baseDir));
  if (realBase === null) return [];
  const walk = async (rel: string, depth: number): Promise<void> => {
    const dir = rel === baseDir ? realBase : join(realBase, rel.slice(baseDir ? baseDir.length + 1 : 0));
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (e.name !== '.git' && depth < maxDepth) await walk(path, depth + 1);
      } else if ((e.isFile() || e.isSymbolicLink()) && re.test(path)) {
        found.push(path);
      }
    }
  };
  await walk(baseDir, 1);
  return found.sort();
}
