/** Spawns the built CLI bundle (dist/berth.mjs) the way a user runs it. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { stripAnsi } from '../../src/shared/ansi.js';

export const BERTH_MAIN = fileURLToPath(new URL('../../dist/berth.mjs', import.meta.url));

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  pid: number;
}

export interface RunningCli {
  child: ChildProcess;
  result: Promise<CliResult>;
  /** Resolves when stdout has printed a chunk matching `pattern`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** What stderr printed so far (ANSI removed). */
  stderrSoFar(): string;
}

export function startBerth(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): RunningCli {
  const child = spawn(process.execPath, [BERTH_MAIN, ...args], {
    cwd: opts.cwd,
    env: { ...process.env, NO_COLOR: '1', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    for (const w of [...waiters]) {
      if (w.pattern.test(stripAnsi(stdout))) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const result = new Promise<CliResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout: stripAnsi(stdout), stderr: stripAnsi(stderr), pid: child.pid! }));
  });
  return {
    child,
    result,
    stderrSoFar: () => stripAnsi(stderr),
    waitFor: (pattern, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        if (pattern.test(stripAnsi(stdout))) return resolve();
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}; stdout so far:\n${stdout}\n${stderr}`)), timeoutMs);
        waiters.push({ pattern, resolve: () => (clearTimeout(timer), resolve()) });
      }),
  };
}

/** `timeoutMs`: past it berth gets SIGTERM (it aborts its jobs and cleans up), so a hang fails the test instead of outliving it. */
export function runBerth(args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<CliResult> {
  const cli = startBerth(args, opts);
  if (opts.timeoutMs === undefined) return cli.result;
  const timer = setTimeout(() => cli.child.kill('SIGTERM'), opts.timeoutMs);
  return cli.result.finally(() => clearTimeout(timer));
}
