/**
 * `include:local` wildcards as GitLab matches them: `*` matches within one directory, `**`
 * matches across directories (`configs/**.yml` is every .yml under configs/). Matched
 * against the working tree (`.git/` skipped), sorted.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';

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
  const walk = async (rel: string, depth: number): Promise<void> => {
    const entries = await readdir(join(root, rel), { withFileTypes: true }).catch(() => []);
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
