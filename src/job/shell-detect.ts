/**
 * The command the build container starts with: find a shell and exec it; the job script then
 * arrives on its stdin. Same detection order as gitlab-runner (bash first, then sh).
 */
const SHELLS = [
  '/usr/local/bin/bash',
  '/usr/bin/bash',
  '/bin/bash',
  '/usr/local/bin/sh',
  '/usr/bin/sh',
  '/bin/sh',
  '/busybox/sh',
];

export const DETECT_SHELL_SCRIPT =
  SHELLS.map((s, i) => `${i === 0 ? 'if' : 'elif'} [ -x ${s} ]; then\n  exec ${s}\n`).join('') +
  'else\n  echo shell not found\n  exit 1\nfi\n';

/** Cmd of the build container: `sh -c <detect>` (the image ENTRYPOINT, if any, wraps it). */
export function detectShellCommand(): string[] {
  return ['sh', '-c', DETECT_SHELL_SCRIPT];
}
