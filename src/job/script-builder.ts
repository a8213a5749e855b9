/**
 * Generates the script of one stage (step_script, after_script), written to the build
 * container shell's stdin. It is plain POSIX sh, so it runs the same under bash, dash or
 * busybox ash, with the same skeleton as gitlab-runner's bash shell:
 *
 *   markers → errexit (+ pipefail where the shell has it) → exports → cd → ( eval '<body>' ) < /dev/null
 *
 * Two marker lines frame the run, so the runner can tell that the script really started
 * (an image ENTRYPOINT that does not `exec "$@"` never runs it) and what status it ended with
 * (even when such an ENTRYPOINT hides the status). The exit marker is written to stdout and to
 * stderr. The executor strips them from the log.
 */
import { ANSI } from '../shared/ansi.js';
import { isShellName, shellQuote } from './shell-quote.js';

export interface ScriptMarkers {
  /** Printed first, as a whole line. */
  start: string;
  /** `<exitPrefix>NNN<exitSuffix>`: NNN is the exit status, three digits. Printed right after the
   * last output, so it ends the last line when that line had no newline of its own. */
  exitPrefix: string;
  exitSuffix: string;
}

export interface StageScriptInput {
  /** Command lines, echoed as `$ <command>` before each runs. */
  commands: readonly string[];
  /** Exported before the commands, in this order (later definitions win). */
  exports: readonly { key: string; value: string }[];
  /** Where the commands run (CI_PROJECT_DIR). */
  workDir: string;
  /** Random, per stage: makes the markers unguessable for the job's own output. */
  nonce: string;
  /** CI_DEBUG_TRACE: `set -o xtrace` for the commands. */
  debugTrace?: boolean;
}

export interface StageScript {
  text: string;
  markers: ScriptMarkers;
}

export function scriptMarkers(nonce: string): ScriptMarkers {
  return {
    start: `::berth-${nonce}-start::\n`,
    exitPrefix: `::berth-${nonce}-exit-`,
    exitSuffix: '::\n',
  };
}

export function buildStageScript(input: StageScriptInput): StageScript {
  const markers = scriptMarkers(input.nonce);
  const exitFormat = `${markers.exitPrefix}%03d${markers.exitSuffix}`.replace(/\n/g, '\\n');
  const lines: string[] = [
    `trap 'exit 1' TERM`,
    `printf '%s' ${shellQuote(markers.start)}`,
    // The exit marker on stdout and on stderr: each arrives after everything written to its
    // stream before it, so once both are in the whole output is (stage-runner.ts). `|| :`: a
    // script that closed its stderr still exits with its own status.
    `trap 's=$?; printf "${exitFormat}" "$s"; printf "${exitFormat}" "$s" >&2 || :' EXIT`,
    // pipefail where the shell has it (bash, busybox ash; not dash), without a fork: `command`
    // keeps a special built-in's error from ending the shell (POSIX), so dash goes on without it.
    'command set -o pipefail 2>/dev/null || :',
    'set -o errexit',
    'set +o noclobber',
  ];
  for (const { key, value } of input.exports) {
    if (isShellName(key)) lines.push(`export ${key}=${shellQuote(value)}`);
  }
  lines.push(`cd ${shellQuote(input.workDir)}`);
  const body = [...(input.debugTrace ? ['set -o xtrace'] : []), ...input.commands.flatMap(commandLines)].join('\n');
  lines.push(`( trap 'exit 1' TERM; eval ${shellQuote(body)} ) < /dev/null`, 'exit 0', '');
  return { text: lines.join('\n'), markers };
}

/** The echo line and the command itself, as gitlab-runner prints them. */
function commandLines(command: string): string[] {
  const trimmed = command.trim();
  if (!trimmed) return ['echo'];
  const firstLine = trimmed.split('\n')[0]!;
  const shown = trimmed.includes('\n') ? `${firstLine} # collapsed multi-line command` : trimmed;
  return [`printf '%s\\n' ${shellQuote(`${ANSI.boldGreen}$ ${shown}${ANSI.reset}`)}`, trimmed];
}
