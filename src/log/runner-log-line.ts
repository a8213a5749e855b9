/**
 * A helper log line in gitlab-runner's text format (log/runner_formatter.go): with fields, the
 * message is padded to 50 columns minus the level prefix, then ` key=value` per field, keys
 * sorted. Without fields, the message alone.
 */
export function runnerLogLine(message: string, fields: Record<string, string> = {}, levelPrefix = ''): string {
  const keys = Object.keys(fields).sort();
  if (!keys.length) return message;
  return `${message.padEnd(50 - levelPrefix.length)} ${keys.map((k) => ` ${k}=${fields[k]}`).join('')}`;
}
