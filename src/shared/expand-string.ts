/**
 * `$VAR` / `${VAR}` expansion as the runner does it: `$$` is an escaped `$`; a name the lookup
 * does not know expands to the empty string. Used for job variables and for config.toml values.
 */
const REF = /\$(?:\$|\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g;

/** Expands `$VAR`, `${VAR}` and `$$` in `text` with `lookup`. */
export function expandString(text: string, lookup: (key: string) => string | undefined): string {
  if (!text.includes('$')) return text;
  return text.replace(REF, (m, braced: string | undefined, bare: string | undefined) => {
    if (m === '$$') return '$';
    return lookup((braced ?? bare)!) ?? '';
  });
}
