/**
 * How berth runs a program on the host (git, for a job's sources) and collects its output. Two
 * launchers: DirectLauncher forks berth itself (child_process.spawn); ShellLauncher
 * (shell-launcher.ts) asks a small long-lived shell to start it, which `berth run` uses: a fork
 * of berth's own process copies its page tables and leaves every page it writes afterwards to a
 * copy-on-write fault, which costs berth CPU and blocks every running job's event loop while the
 * kernel does it.
 */
import { spawn } from 'node:child_process';
import { BerthError } from '../shared/errors.js';

export interface LaunchRequest {
  /** The program: a name looked up in the request's PATH, or a path. */
  file: string;
  args: readonly string[];
  /** An absolute folder. */
  cwd: string;
  /** The program's whole environment (nothing is inherited). */
  env: Readonly<Record<string, string | undefined>>;
  /** Stops the program (SIGTERM); the launch then rejects with the signal's reason. */
  signal?: AbortSignal;
}

export interface LaunchResult {
  /** The exit code; null when a signal ended the program. */
  code: number | null;
  /** The signal that ended the program, e.g. `SIGTERM`. */
  signal: string | null;
  stdout: string;
  stderr: string;
  /** A stream was longer than the launcher keeps (ShellLauncher: its first maxOutputBytes). */
  truncated?: boolean;
}

/** The program could not be started (not found, not executable, no such folder) or its launcher failed. */
export class LaunchError extends BerthError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('git_error', message, options);
  }
}

export interface ProcessLauncher {
  launch(req: LaunchRequest): Promise<LaunchResult>;
  /** Ends what the launcher keeps running; programs still running are left to finish. */
  close(): Promise<void>;
}

/** Forks berth for each program (child_process.spawn): what `berth exec` and the tests use. */
export class DirectLauncher implements ProcessLauncher {
  launch(req: LaunchRequest): Promise<LaunchResult> {
    return new Promise((resolve, reject) => {
      const child = spawn(req.file, req.args, { cwd: req.cwd, env: req.env, stdio: ['ignore', 'pipe', 'pipe'], ...(req.signal ? { signal: req.signal } : {}) });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', (err) => reject(err.name === 'AbortError' ? err : new LaunchError(err.message, { cause: err })));
      child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    });
  }

  async close(): Promise<void> {}
}
