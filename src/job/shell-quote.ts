/** POSIX shell quoting: the value as one single-quoted word, safe for sh, ash, dash and bash. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A variable name a POSIX shell can export. */
export function isShellName(key: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key);
}
