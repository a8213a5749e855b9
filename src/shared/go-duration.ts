/** Go's time.Duration text form, which GitLab's messages, config.toml and timeout variables use. */

const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds of a Go duration string (`"90s"`, `"1h30m"`, `"1.5h"`, `"0"`), or undefined when it is not one. */
export function parseGoDuration(text: string): number | undefined {
  const s = text.trim();
  if (s === '0') return 0;
  const sign = s.startsWith('-') ? -1 : 1;
  const body = s.replace(/^[-+]/, '');
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let total = 0;
  let m: RegExpExecArray | null;
  while (re.lastIndex < body.length && (m = re.exec(body))) total += Number(m[1]) * UNIT_MS[m[2]!]!;
  if (body === '' || re.lastIndex !== body.length) return undefined;
  return sign * total;
}

/** Go's `time.Duration.String()` of `ms` milliseconds: `"1h0m0s"`, `"15m0s"`, `"1.5s"`, `"0s"`. */
export function formatGoDuration(ms: number): string {
  if (ms === 0) return '0s';
  const sign = ms < 0 ? '-' : '';
  let rest = Math.abs(ms);
  if (rest < 1000) return `${sign}${trim(rest)}ms`;
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  const s = `${trim(rest / 1000)}s`;
  if (h) return `${sign}${h}h${m}m${s}`;
  if (m) return `${sign}${m}m${s}`;
  return `${sign}${s}`;
}

function trim(n: number): string {
  return String(Number(n.toFixed(6)));
}
