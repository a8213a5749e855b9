/** ANSI sequences GitLab's job log uses (gitlab-runner helpers/ansi_colors.go). */
export const ANSI = {
  clear: '\x1b[0K',
  reset: '\x1b[0;m',
  boldGreen: '\x1b[32;1m',
  boldRed: '\x1b[31;1m',
  boldCyan: '\x1b[36;1m',
  yellow: '\x1b[0;33m',
  grey: '\x1b[37;1m',
} as const;

// CSI sequences, OSC sequences, and GitLab section markers (section_start:ts:name[opts]\r\x1b[0K).
// eslint-disable-next-line no-control-regex
const ANSI_RE = /section_(?:start|end):\d+:[A-Za-z0-9_.-]+(?:\[[^\]]*\])?\r(?:\x1b\[0K)?|\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)/g;

/** Removes colours, cursor codes and section markers: the plain text a person reads. */
export function stripAnsi(text: string): string {
  return text.replace(ANSI_RE, '');
}
