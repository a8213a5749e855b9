/**
 * The runner's own log (not a job log): one line per event, as text (logfmt), json, or
 * gitlab-runner's "runner" format, filtered by level. Every line goes through `scrub`, so a
 * token that slipped into a message is masked here too.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'panic';
export type LogFormat = 'runner' | 'text' | 'json';
export type Fields = Record<string, string | number | boolean | undefined>;

const ORDER: LogLevel[] = ['debug', 'info', 'warn', 'error', 'fatal', 'panic'];

export interface RunnerLog {
  debug(msg: string, fields?: Fields): void;
  info(msg: string, fields?: Fields): void;
  warn(msg: string, fields?: Fields): void;
  error(msg: string, fields?: Fields): void;
}

export function createRunnerLog(opts: {
  level: LogLevel;
  format: LogFormat;
  write: (line: string) => void;
  scrub?: (text: string) => string;
  now?: () => Date;
}): RunnerLog {
  const min = ORDER.indexOf(opts.level);
  const scrub = opts.scrub ?? ((t: string) => t);
  const now = opts.now ?? (() => new Date());
  const emit = (level: LogLevel, msg: string, fields: Fields = {}): void => {
    if (ORDER.indexOf(level) < min) return;
    const entries = Object.entries(fields).filter(([, v]) => v !== undefined) as [string, string | number | boolean][];
    let line: string;
    if (opts.format === 'json') {
      line = JSON.stringify({ level, msg, time: now().toISOString(), ...Object.fromEntries(entries) });
    } else if (opts.format === 'text') {
      line = [`time="${now().toISOString()}"`, `level=${level}`, `msg=${quote(msg)}`, ...entries.map(([k, v]) => `${k}=${quote(String(v))}`)].join(' ');
    } else {
      const prefix = level === 'info' ? '' : `${level.toUpperCase()}: `;
      line = `${prefix}${msg.padEnd(40)} ${entries.map(([k, v]) => `${k}=${v}`).join(' ')}`.trimEnd();
    }
    opts.write(`${scrub(line)}\n`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

function quote(v: string): string {
  return /^[A-Za-z0-9_.:/@+-]+$/.test(v) ? v : JSON.stringify(v);
}
