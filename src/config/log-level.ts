/**
 * gitlab-runner's log levels, parsed as logrus.ParseLevel does (case-insensitive; panic, fatal,
 * error, warn, warning, info, debug, trace), for `log_level` and `berth run --log-level`, mapped
 * onto berth's four levels: trace is debug, fatal and panic are error.
 */
export type RunLogLevel = 'debug' | 'info' | 'warn' | 'error';

const LOGRUS_LEVELS = new Map<string, RunLogLevel>([
  ['panic', 'error'],
  ['fatal', 'error'],
  ['error', 'error'],
  ['warn', 'warn'],
  ['warning', 'warn'],
  ['info', 'info'],
  ['debug', 'debug'],
  ['trace', 'debug'],
]);

export const LOG_LEVEL_NAMES: readonly string[] = [...LOGRUS_LEVELS.keys()];

/** berth's level for a logrus level name, or undefined when logrus would refuse it. */
export function parseLogLevel(text: string): RunLogLevel | undefined {
  return LOGRUS_LEVELS.get(text.toLowerCase());
}
