/**
 * ShellLauncher: programs started by a small long-lived shell (`/bin/sh`, started once, when the
 * first program is launched) instead of by forking berth. Forking a process of 90 MB (berth run
 * with jobs in flight) copies its page tables and turns every page it writes afterwards into a
 * copy-on-write fault: measured, 200 launches of `git --version` from a 126 MB Node process cost
 * it 1.25-1.37 s of CPU through child_process.spawn and 0.30-0.34 s through this launcher, and the
 * event loop's 99th-percentile delay went from 35 ms to 5-7 ms. The shell is ~1 MB: its forks
 * cost next to nothing.
 *
 * For each program berth writes one command line to the shell's stdin, every value single-quoted
 * (no expansion can happen; the quoting is the whole escape):
 *
 *   ( { cd 'DIR' 2>/dev/null || { echo "E 7 cwd"; exit 0; }; unset OLDPWD PWD SHLVL  # cd (bash: SHLVL) exports them
 *       export NAME='value' ...
 *       command -v 'FILE' >/dev/null 2>&1 || { echo "E 7 missing"; exit 0; }
 *       exec 'FILE' 'ARG' ... </dev/null >'OUT' 2>'ERR' & echo "P 7 $!"; wait $!; echo "E 7 $?"; } & )
 *
 * The outer subshell returns at once (the shell never waits for a program and collects no
 * zombies: the waiting subshell is the program's parent and is itself re-parented), `P` gives the
 * program's pid (for SIGTERM on abort), `E` its status. The program's environment is exactly the
 * request's: the shell starts with an empty one (where /bin/sh is bash, its `exec` adds SHLVL). Output goes to two files in a private folder
 * (read, at most `maxOutputBytes` of each, and removed when the program ends). A status above 128
 * is read as a signal (the shell cannot tell it from an exit code above 128).
 *
 * The shell runs in its own process group, so a Ctrl-C at berth's terminal reaches berth (which
 * stops its jobs) and not the programs directly; as background commands of a non-interactive
 * shell the programs ignore SIGINT and SIGQUIT. If the shell ends, pending launches fail and the
 * next launch starts a new one; when berth ends, the shell reads end-of-file and exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, fstatSync, mkdirSync, openSync, readSync, rmSync, unlinkSync } from 'node:fs';
import { constants } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { abortReason } from '../shared/abort.js';
import { DirectLauncher, LaunchError, type LaunchRequest, type LaunchResult, type ProcessLauncher } from './process-launcher.js';

export interface ShellLauncherOptions {
  /** A folder for the programs' output while they run: made private (0700) when needed, removed by close(). */
  outputDir: string;
  /** Default /bin/sh. */
  shell?: string;
  /** Output kept per stream, its first bytes (default 1 MiB). */
  maxOutputBytes?: number;
}

interface Pending {
  req: LaunchRequest;
  out: string;
  err: string;
  pid: number | null;
  settled: boolean;
  resolve(r: LaunchResult): void;
  reject(err: Error): void;
  onAbort?: () => void;
}

/** Names a POSIX shell can export; anything else goes through DirectLauncher. */
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const SIGNALS = new Map(Object.entries(constants.signals).map(([name, n]) => [n, name]));

export const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export class ShellLauncher implements ProcessLauncher {
  private shell: ChildProcess | null = null;
  private shellErr = '';
  private lineBuffer = '';
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private dirMade = false;
  private closed = false;
  private readonly direct = new DirectLauncher();
  private readonly shellPath: string;
  private readonly maxOutput: number;

  constructor(private readonly opts: ShellLauncherOptions) {
    this.shellPath = opts.shell ?? '/bin/sh';
    this.maxOutput = opts.maxOutputBytes ?? 1024 * 1024;
  }

  /** The shell's pid while it runs (tests). */
  get shellPid(): number | null {
    return this.shell?.pid ?? null;
  }

  launch(req: LaunchRequest): Promise<LaunchResult> {
    const values = [req.file, req.cwd, ...req.args, ...Object.values(req.env).filter((v): v is string => v !== undefined)];
    if (values.some((v) => v.includes('\0'))) return Promise.reject(new LaunchError(`${req.file} could not run: an argument, the folder or an environment value contains a NUL byte`));
    if (!Object.keys(req.env).every((k) => NAME.test(k)) || !isAbsolute(req.cwd)) return this.direct.launch(req);
    if (req.signal?.aborted) return Promise.reject(abortReason(req.signal));
    if (this.closed) return Promise.reject(new LaunchError(`${req.file} could not run: berth is shutting down`));
    let shell: ChildProcess;
    try {
      this.makeDir();
      shell = this.startedShell();
    } catch (err) {
      return Promise.reject(new LaunchError(`${req.file} could not run: the shell ${this.shellPath} could not start: ${(err as Error).message}`, { cause: err }));
    }
    const id = this.nextId++;
    return new Promise<LaunchResult>((resolve, reject) => {
      const p: Pending = { req, out: join(this.opts.outputDir, `${id}.out`), err: join(this.opts.outputDir, `${id}.err`), pid: null, settled: false, resolve, reject };
      this.pending.set(id, p);
      if (this.pending.size === 1) this.setRef(true);
      if (req.signal) {
        const signal = req.signal;
        p.onAbort = () => {
          if (p.pid !== null) kill(p.pid);
          this.settle(p, () => reject(abortReason(signal)));
        };
        signal.addEventListener('abort', p.onAbort, { once: true });
      }
      shell.stdin!.write(commandLine(id, req, p.out, p.err));
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const shell = this.shell;
    if (shell) {
      const exited = new Promise<void>((resolve) => (shell.exitCode !== null || shell.signalCode !== null ? resolve() : shell.once('exit', () => resolve())));
      shell.ref(); // unreferenced while idle: this wait alone must keep berth alive
      shell.stdin!.end();
      await exited;
    }
    this.failAll('berth is shutting down');
    if (this.dirMade) rmSync(this.opts.outputDir, { recursive: true, force: true });
    this.dirMade = false;
  }

  private makeDir(): void {
    if (this.dirMade) return;
    mkdirSync(this.opts.outputDir, { recursive: true, mode: 0o700 });
    this.dirMade = true;
  }

  private startedShell(): ChildProcess {
    if (this.shell) return this.shell;
    const shell = spawn(this.shellPath, [], { env: {}, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    this.shell = shell;
    this.shellErr = '';
    this.lineBuffer = '';
    shell.unref();
    (shell.stdin as unknown as { unref?: () => void }).unref?.();
    (shell.stderr as unknown as { unref?: () => void }).unref?.();
    if (this.pending.size === 0) this.setRef(false);
    shell.stdin.on('error', () => undefined); // a shell that ended: its 'exit' fails what is pending
    shell.stdout.setEncoding('utf8');
    shell.stdout.on('data', (text: string) => this.onOutput(text));
    shell.stderr.setEncoding('utf8');
    shell.stderr.on('data', (text: string) => (this.shellErr = (this.shellErr + text).slice(-2000)));
    shell.on('error', (err) => this.onShellEnd(shell, err.message));
    shell.on('exit', (code, signal) => this.onShellEnd(shell, signal ? `ended by ${signal}` : `exited with code ${code}`));
    return shell;
  }

  private onShellEnd(shell: ChildProcess, how: string): void {
    if (this.shell !== shell) return;
    this.shell = null;
    if (!this.closed) this.failAll(`the shell ${this.shellPath} that starts programs for berth ${how}${this.shellErr.trim() ? `: ${this.shellErr.trim()}` : ''}`);
  }

  private failAll(why: string): void {
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      removeQuietly(p.out);
      removeQuietly(p.err);
      this.settle(p, () => p.reject(new LaunchError(`${p.req.file} could not run: ${why}`)));
    }
  }

  private setRef(on: boolean): void {
    const out = this.shell?.stdout as unknown as { ref?: () => void; unref?: () => void } | undefined;
    if (on) out?.ref?.();
    else out?.unref?.();
  }

  private onOutput(text: string): void {
    this.lineBuffer += text;
    for (let nl = this.lineBuffer.indexOf('\n'); nl >= 0; nl = this.lineBuffer.indexOf('\n')) {
      const [kind, idText, value] = this.lineBuffer.slice(0, nl).split(' ');
      this.lineBuffer = this.lineBuffer.slice(nl + 1);
      const p = this.pending.get(Number(idText));
      if (!p || value === undefined) continue;
      if (kind === 'P') {
        p.pid = Number(value);
        if (p.req.signal?.aborted) kill(p.pid);
      } else if (kind === 'E') {
        this.pending.delete(Number(idText));
        if (this.pending.size === 0) this.setRef(false);
        this.finish(p, value);
      }
    }
  }

  private finish(p: Pending, status: string): void {
    const stdout = readStart(p.out, this.maxOutput);
    const stderr = readStart(p.err, this.maxOutput);
    removeQuietly(p.out);
    removeQuietly(p.err);
    if (status === 'cwd') return this.settle(p, () => p.reject(new LaunchError(`${p.req.file} could not run: cannot enter the folder ${p.req.cwd}`)));
    if (status === 'missing') return this.settle(p, () => p.reject(new LaunchError(`${p.req.file} could not run: not found in PATH or not executable`)));
    const n = Number(status);
    const signal = n > 128 ? (SIGNALS.get(n - 128) ?? null) : null;
    this.settle(p, () => p.resolve({ code: signal ? null : n, signal, stdout, stderr }));
  }

  private settle(p: Pending, then: () => void): void {
    if (p.settled) return;
    p.settled = true;
    if (p.onAbort) p.req.signal?.removeEventListener('abort', p.onAbort);
    then();
  }
}

function commandLine(id: number, req: LaunchRequest, out: string, err: string): string {
  const q = shellQuote;
  const exports = Object.entries(req.env)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${k}=${q(v)}`);
  const setEnv = exports.length ? `export ${exports.join(' ')}; ` : '';
  const argv = [req.file, ...req.args].map(q).join(' ');
  return (
    `( { cd ${q(req.cwd)} 2>/dev/null || { echo "E ${id} cwd"; exit 0; }; unset OLDPWD PWD SHLVL; ${setEnv}` +
    `command -v ${q(req.file)} >/dev/null 2>&1 || { echo "E ${id} missing"; exit 0; }; ` +
    `exec ${argv} </dev/null >${q(out)} 2>${q(err)} & echo "P ${id} $!"; wait $!; echo "E ${id} $?"; } & )\n`
  );
}

function readStart(path: string, max: number): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return '';
  }
  try {
    const size = Math.min(fstatSync(fd).size, max);
    const buf = Buffer.allocUnsafe(size);
    let n = 0;
    for (let got = -1; got !== 0 && n < size; n += got) got = readSync(fd, buf, n, size - n, null);
    return buf.toString('utf8', 0, n);
  } finally {
    closeSync(fd);
  }
}

function removeQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // not written (the folder or the program never started) or already gone
  }
}

function kill(pid: number): void {
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    // already ended
  }
}
