/** The text `berth auth explain` prints for an Explanation (plain, no colours, no secrets). */
import type { Explanation, ExplainedKey } from './explain-registry-auth.js';

const VERDICT: Record<ExplainedKey['verdict'], string> = {
  wins: 'WINS',
  loses: 'matches, not used',
  'no-match': 'no match',
  unusable: 'unusable',
  'helper-problem': 'helper problem',
};

export function formatExplanation(e: Explanation): string[] {
  const lines = [
    `Image:     ${e.image}`,
    `Registry:  ${e.registry}`,
    `Lookup:    ${e.lookupPaths.join(', ')} (longest first; the port must match)`,
    '',
  ];
  if (e.refusal) {
    lines.push(`Refused:   ${e.refusal}`, '           A job with this configuration fails (runner_configuration_error).');
    return lines;
  }
  lines.push('Credential sources, in order (the first source that supplies a registry path keeps it):');
  e.sources.forEach((s, i) => {
    const head = `${i + 1}. ${s.label}${s.label.startsWith('$') ? ` (${s.origin})` : ''}`;
    if (s.state === 'absent') {
      const why = s.label.startsWith('job payload') ? 'only known inside a job (CI_REGISTRY, dependency proxy)' : s.detail;
      lines.push(`${head}: not used, ${why}`);
      return;
    }
    if (s.state === 'unreadable') {
      lines.push(`${head}: IGNORED, ${s.detail}`);
      return;
    }
    lines.push(`${head}:${s.keys.length ? '' : ' no registry keys'}`);
    if (s.detail) lines.push(`   note: ${s.detail}`);
    const name = (k: ExplainedKey): string => (k.key === '*' ? '(every key)' : k.key);
    const via = (k: ExplainedKey): string => `[${k.helper ? `${k.via} "${k.helper}"` : k.via}]`;
    const keyWidth = Math.max(0, ...s.keys.map((k) => name(k).length));
    const viaWidth = Math.max(0, ...s.keys.map((k) => via(k).length));
    for (const k of s.keys) {
      lines.push(`   ${name(k).padEnd(keyWidth)}  ${via(k).padEnd(viaWidth)}  ${VERDICT[k.verdict]}: ${k.why}`);
    }
    for (const p of s.problems) lines.push(`   ignored: ${p}`);
  });
  lines.push('');
  if (e.winner) {
    lines.push(`Result:    ${e.winner.text}, with ${e.winner.credential}.`);
    lines.push(`           The job log says: Authenticating with credentials from ${e.winner.source}`);
  } else {
    lines.push('Result:    no credentials: the image is pulled anonymously.');
  }
  if (e.warnings.length) {
    lines.push('', 'Warnings a job log would show:');
    for (const w of e.warnings) lines.push(`   WARNING: ${w}`);
  }
  return lines;
}
