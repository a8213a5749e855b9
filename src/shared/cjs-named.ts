/**
 * The named exports of a CommonJS package loaded with `import()`. Run from source they sit on the
 * namespace; bundled (dist/, code splitting), esbuild hands back a namespace whose named exports
 * sit on `default`. `probe` is one export the caller needs, to tell the two apart.
 */
export function cjsNamed<T extends object>(mod: T, probe: string): T {
  if (probe in mod) return mod;
  const inner = (mod as { default?: unknown }).default;
  return inner && typeof inner === 'object' && probe in inner ? (inner as T) : mod;
}
