/**
 * Runs one stage script in a container, the gitlab-runner way: attach, start, write the script
 * to the shell's stdin, stream stdout/stderr into the job log until the container stops. The
 * attach and start may have been done before the stage's turn (LaunchedShell).
 * When the signal aborts, the script's processes get SIGTERM first (every PID but 1), then the
 * container is stopped, then killed; the stage still returns the container's exit code.
 */
import type { EngineClient } from '../engine/engine-client.js';
import type { StageScript } from '../job/script-builder.js';
import { SCRIPT_STDERR, SCRIPT_STDOUT, type JobLog } from '../log/job-log.js';
import { LaunchedShell } from './launched-shell.js';
import { MarkerFilter } from './marker-filter.js';

export interface StageOutcome {
  /** The container's exit code. */
  exitCode: number;
  /** The start marker went by: the job script really ran. */
  scriptStarted: boolean;
  /** The exit status the script itself reported, when its exit marker went by. */
  scriptExitStatus: number | null;
  /** The stage was stopped because the signal aborted. */
  stopped: boolean;
  /**
   * Resolves once the engine reports the container stopped. The outcome may come first (from
   * the script's exit marker); the container must not be started again before this resolves.
   */
  exited: Promise<void>;
}

/** SIGTERM to every process but PID 1 and the kill script itself (gitlab-runner's kill script). */
const TERM_ALL =
  'for p in $(cd /proc && ls -d [0-9]* 2>/dev/null); do ' +
  '[ "$p" = 1 ] || [ "$p" = "$$" ] || kill -TERM "$p" 2>/dev/null; done; exit 0';

export interface StopTimings {
  /** Bound on the kill script. */
  termScriptMs: number;
  /** Grace between `docker stop`'s SIGTERM and its SIGKILL. */
  stopGraceSeconds: number;
}

export const DEFAULT_STOP_TIMINGS: StopTimings = { termScriptMs: 10_000, stopGraceSeconds: 10 };

export async function runStage(
  engine: EngineClient,
  containerId: string,
  script: StageScript,
  log: JobLog,
  signal: AbortSignal,
  timings: StopTimings = DEFAULT_STOP_TIMINGS,
  /** The container already started, its shell waiting (launched before the stage's turn). */
  launched?: Promise<LaunchedShell>,
  opts: { shellIsTheProcess?: boolean } = {},
): Promise<StageOutcome> {
  const stdout = new MarkerFilter(log.openStream(SCRIPT_STDOUT), script.markers);
  const stderr = new MarkerFilter(log.openStream(SCRIPT_STDERR), script.markers);
  let shell: LaunchedShell | null = null;
  let stopped = false;
  let stopping = null as Promise<void> | null; // set by onAbort, from a listener
  const onAbort = (): void => {
    stopped = true;
    stopping ??= stopContainer(engine, containerId, timings);
  };
  try {
    shell = await (launched ?? LaunchedShell.launch(engine, containerId));
    const dropped = shell.take({ stdout: (chunk) => stdout.write(chunk), stderr: (chunk) => stderr.write(chunk) });
    if (dropped) log.warning(`${dropped} bytes the container wrote before the script started were left out`);
    const { attachment, exited } = shell;
    attachment.stdin.end(script.text);
    signal.addEventListener('abort', onAbort, { once: true });
    if (signal.aborted) onAbort();
    // The script's exit marker and the end of its output give the result before the engine has
    // finished tearing the container down; the rest of the job need not wait for that. When the
    // shell is the container's own process (no ENTRYPOINT around it), the exit marker on both
    // streams is the end of the output already: each stream delivers in order, and the shell
    // only exits after its EXIT trap wrote them. The engine closes the attach stream when it
    // has handled the exit, 100-300 ms later while other containers start (bench/run-throughput).
    const bothMarkers = opts.shellIsTheProcess ? [Promise.all([stdout.exitSeen, stderr.exitSeen]).then(() => ({ code: null }))] : [];
    const first = await Promise.race([
      exited.then((code) => ({ code })),
      attachment.ended.then(() => ({ code: null })),
      ...bothMarkers,
    ]);
    if (first.code === null && stdout.exitStatus !== null && !stopped) {
      return {
        exitCode: stdout.exitStatus,
        scriptStarted: stdout.started,
        scriptExitStatus: stdout.exitStatus,
        stopped: false,
        exited: exited.then(() => undefined, () => undefined),
      };
    }
    const exitCode = first.code ?? (await exited);
    // Output may still be in flight when the container has stopped; wait for it, bounded.
    await withTimeout(attachment.ended, 5_000);
    await stopping;
    return { exitCode, scriptStarted: stdout.started, scriptExitStatus: stdout.exitStatus, stopped, exited: Promise.resolve() };
  } finally {
    signal.removeEventListener('abort', onAbort);
    shell?.attachment.destroy();
    stdout.end();
    stderr.end();
  }
}

/** SIGTERM the script's processes, then `docker stop`, then SIGKILL. Never throws. */
export async function stopContainer(engine: EngineClient, id: string, timings: StopTimings): Promise<void> {
  try {
    await engine.execInContainer(id, ['sh', '-c', TERM_ALL], AbortSignal.timeout(timings.termScriptMs));
  } catch {
    // No sh in the image, or the container already stopped: docker stop below still works.
  }
  try {
    await engine.stopContainer(id, timings.stopGraceSeconds, AbortSignal.timeout((timings.stopGraceSeconds + 10) * 1000));
  } catch {
    await engine.killContainer(id).catch(() => undefined);
  }
}

/** Resolves when `p` settles or after `ms`, whichever is first; leaves no timer behind. */
function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    p.finally(() => {
      clearTimeout(timer);
      resolve();
    }).catch(() => undefined);
  });
}
