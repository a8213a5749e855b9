/**
 * Keys of a config.toml table that berth does not model (a newer gitlab-runner's, another
 * executor's, a typo), kept as read so that saving the file writes them back into the same table:
 * gitlab-runner keeps every key its structs have, and a config shared by both tools must not lose
 * them when berth rewrites it. They live beside the typed model (not in it), keyed by the decoded
 * table object, so the model's types and equality stay those of the schema.
 */
const extras = new WeakMap<object, Record<string, unknown>>();

export function keepExtraKeys(table: object, keys: Record<string, unknown>): void {
  if (Object.keys(keys).length) extras.set(table, keys);
}

/** The keys berth did not know in the table `table` was decoded from (empty when none). */
export function extraKeysOf(table: object): Record<string, unknown> {
  return extras.get(table) ?? {};
}
