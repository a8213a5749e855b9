/**
 * GitLab duration strings (ChronicDuration, as used by `timeout` and `start_in`): "3600",
 * "1h 30m", "1h30m", "90 minutes", "1 hour and 30 minutes", "1.5h", "2 days", "01:30:00".
 * A bare number is seconds. Returns seconds, or null when the text is not a duration.
 */

const UNIT_SECONDS: [RegExp, number][] = [
  [/^(s|secs?|seconds?)$/, 1],
  [/^(m|mins?|minutes?)$/, 60],
  [/^(h|hrs?|hours?)$/, 3600],
  [/^(d|days?)$/, 86_400],
  [/^(w|wks?|weeks?)$/, 604_800],
  [/^(mos?|months?)$/, 2_592_000],
  [/^(y|yrs?|years?)$/, 31_536_000],
];

export function parseDuration(input: string | number): number | null {
  if (typeof input === 'number') return Number.isFinite(input) && input >= 0 ? Math.round(input) : null;
  const text = input.trim().toLowerCase();
  if (text === '') return null;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text));
  const clock = /^(?:(\d+):)?(\d{1,2}):(\d{2})$/.exec(text);
  if (clock) {
    const [h, m, s] = clock[1] === undefined ? [0, Number(clock[2]), Number(clock[3])] : [Number(clock[1]), Number(clock[2]), Number(clock[3])];
    return h * 3600 + m * 60 + s;
  }
  const cleaned = text.replace(/,|\band\b/g, ' ');
  const part = /(\d+(?:\.\d+)?|\.\d+)\s*([a-z]+)/g;
  let total = 0;
  let consumed = '';
  for (const m of cleaned.matchAll(part)) {
    const unit = UNIT_SECONDS.find(([re]) => re.test(m[2]!));
    if (!unit) return null;
    total += Number(m[1]) * unit[1];
    consumed += m[0];
  }
  if (consumed.replace(/\s/g, '') !== cleaned.replace(/\s/g, '')) return null;
  return Math.round(total);
}
