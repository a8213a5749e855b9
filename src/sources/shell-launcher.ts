/**
 * ShellLauncher: programs started by a small long-lived shell (`/bin/sh`, started once, when the
 * first program is launched) instead of by forking berth. Forking a process of 90 MB (berth run
 * with jobs in flight) copies its page tables and turns every page it writes afterwards into a
 * copy-on-write fault: measured, 200 launches of `git --version` from a 126 MB Node process cost
 * it 1.25-1.37 s of CPU through child_process.spawn and 0.30-0.34 s through this launcher, and the
 * event loop's 99th-percentile delay went from 35 ms to 5-7 ms. The shell is ~2 MB: its forks are
 * cheap, but each launch is two processes (a waiting subshell and the program), which costs the
 * host a few ms per launch back (bench/run-throughput, interleaved: berth 92 -> 71 ms of CPU per
 * job, git with its shell 103 -> 110 ms).
 *
 * For each program berth writes one command line to the shell's stdin, every value single-quoted
 * (no expansion can happen; the quoting is the whole escape):
 *
 *   jobs >/dev/null; { trap 'echo "E 7 lost"' EXIT; cd 'DIR' 2>/dev/null || { trap - EXIT; echo "E 7 cwd"; exit 0; }
 *       unset OLDPWD PWD SHLVL; export NAME='value' ...          # cd (bash: SHLVL) exports them
 *       command -v 'FILE' >/dev/null 2>&1 || { trap - EXIT; echo "E 7 missing"; exit 0; }
 *       { true >'OUT' && true >'ERR'; } 2>/dev/null || { trap - EXIT; echo "E 7 outdir"; exit 0; }
 *       exec 'FILE' 'ARG' ... </dev/null >'OUT' 2>'ERR' & echo "P 7 $!"; wait "$!"; s=$?; trap - EXIT; echo "E 7 $s"; } &
 *
 * The shell never waits for a program: a background subshell does, `P` gives the program's pid
 * (for SIGTERM on abort), `E` its status (`lost` if the subshell ended another way: the launch
 * fails instead of waiting for ever). The shell is that subshell's parent and reaps it (`jobs`
 * collects the finished ones before the next launch; dash leaves them as zombies otherwise), so
 * nothing is re-parented to berth, which may be PID 1 in a container. The program's environment
 * is exactly the request's: the shell starts with an empty one (names a shell cannot export, or
 * that it holds itself, go through DirectLauncher; where /bin/sh is bash, its `exec` adds SHLVL). Output goes to two files in a private folder
 * (read, at most `maxOutputBytes` of each, and removed when the program ends); a folder removed
 * meanwhile is made again. The status is always the exit code: the shell cannot tell `exit 129`
 * from SIGHUP (git exits 129 on a bad option), and a program berth stops on abort has had its
 * launch rejected already.
 *
 * The shell runs in its own process group, so a Ctrl-C at berth's terminal reaches berth (which
 * stops its jobs) and not the programs directly; as background commands of a non-interactive
 * shell the programs ignore SIGINT and SIGQUIT. If the shell ends, pending launches fail and the
 * next launch starts a new one; when berth ends, the shell reads end-of-file and exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, fstatSync, mkdirSync, openSync, readSync, rmSync, unlinkSync } from 'node:fs';
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
  id: number;
  req: LaunchRequest;
  out: string;
  err: string;
  pid: number | null;
  /** The output folder was made again once for this launch. */
  retried: boolean;
  settled: boolean;
  resolve(r: LaunchResult): void;
  reject(err: Error): void;
  onAbort?: () => void;
}

interface Shell {
  proc: ChildProcess;
  lines: string;
  stderr: string;
}

/** Names a POSIX shell can export... */
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** ...except those the shell uses or holds read-only itself (dash, bash). */
const SHELL_OWN = new Set(['IFS', 'PPID', 'UID', 'EUID', 'OPTIND', 'SHELLOPTS', 'BASHOPTS', 'BASH_VERSINFO', 'BASH_ARGV0', 'GROUPS']);

export const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export class ShellLauncher implements ProcessLauncher {
  private shell: Shell | null = null;
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
    return this.shell?.proc.pid ?? null;
  }

  launch(req: LaunchRequest): Promise<LaunchResult> {
    const values = [req.file, req.cwd, ...req.args, ...Object.values(req.env).filter((v): v is string => v !== undefined)];
    if (values.some((v) => v.includes('\0'))) return Promise.reject(new LaunchError('an argument, the folder or an environment value contains a NUL byte'));
    if (!Object.keys(req.env).every((k) => NAME.test(k) && !SHELL_OWN.has(k)) || !isAbsolute(req.cwd)) return this.direct.launch(req);
    if (req.signal?.aborted) return Promise.reject(abortReason(req.signal));
    if (this.closed) return Promise.reject(new LaunchError('berth is shutting down'));
    let shell: Shell;
    try {
      this.makeDir();
      shell = this.startedShell();
    } catch (err) {
      return Promise.reject(new LaunchError(`the shell ${this.shellPath} could not start: ${(err as Error).message}`, { cause: err }));
    }
    const id = this.nextId++;
    const dir = this.opts.outputDir;
    return new Promise<LaunchResult>((resolve, reject) => {
      const p: Pending = { id, req, out: join(dir, `${id}.out`), err: join(dir, `${id}.err`), pid: null, retried: false, settled: false, resolve, reject };
      this.pending.set(id, p);
      if (this.pending.size === 1) setRef(shell, true);
      if (req.signal) {
        const signal = req.signal;
        p.onAbort = () => {
          if (p.pid !== null) this.kill(p);
          this.settle(p, () => reject(abortReason(signal)));
        };
        signal.addEventListener('abort', p.onAbort, { once: true });
      }
      shell.proc.stdin!.write(commandLine(p));
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const shell = this.shell;
    if (shell) {
      const proc = shell.proc;
      const exited = new Promise<void>((resolve) => (proc.exitCode !== null || proc.signalCode !== null ? resolve() : proc.once('exit', () => resolve())));
      proc.ref(); // unreferenced while idle: this wait alone must keep berth alive
      proc.stdin!.end();
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

  private startedShell(): Shell {
    if (this.shell) return this.shell;
    const proc = spawn(this.shellPath, [], { env: {}, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const shell: Shell = { proc, lines: '', stderr: '' };
    this.shell = shell;
    proc.unref();
    (proc.stdin as unknown as { unref?: () => void }).unref?.();
    (proc.stderr as unknown as { unref?: () => void }).unref?.();
    setRef(shell, false);
    proc.stdin.on('error', () => undefined); // a shell that ended: its 'exit' fails what is pending
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (text: string) => this.onOutput(shell, text));
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (text: string) => (shell.stderr = (shell.stderr + text).slice(-2000)));
    proc.on('error', (err) => this.onShellEnd(shell, err.message));
    proc.on('exit', (code, signal) => this.onShellEnd(shell, signal ? `ended by ${signal}` : `exited with code ${code}`));
    return shell;
  }

  private onShellEnd(shell: Shell, how: string): void {
    if (this.shell !== shell) return;
    this.shell = null;
    // Its subshells may still write to the pipe: nothing of theirs is waited for any more.
    setRef(shell, false);
    if (!this.closed) this.failAll(`the shell ${this.shellPath} that starts programs for berth ${how}${shell.stderr.trim() ? `: ${shell.stderr.trim()}` : ''}`);
  }

  private failAll(why: string): void {
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      removeQuietly(p.out);
      removeQuietly(p.err);
      this.settle(p, () => p.reject(new LaunchError(why)));
    }
  }

  private onOutput(shell: Shell, text: string): void {
    if (this.shell !== shell) return; // a shell that ended: its launches have failed already
    shell.lines += text;
    const toKill: Pending[] = [];
    for (let nl = shell.lines.indexOf('\n'); nl >= 0; nl = shell.lines.indexOf('\n')) {
      const [kind, idText, value] = shell.lines.slice(0, nl).split(' ');
      shell.lines = shell.lines.slice(nl + 1);
      const p = this.pending.get(Number(idText));
      if (!p || value === undefined) continue;
      if (kind === 'P') {
        p.pid = Number(value);
        if (p.req.signal?.aborted) toKill.push(p);
      } else if (kind === 'E') {
        this.finish(p, value);
      }
    }
    // After the whole chunk: a program whose `E` came with its `P` has been reaped, and its pid may be another's.
    for (const p of toKill) if (this.pending.has(p.id)) this.kill(p);
    if (this.pending.size === 0) setRef(shell, false);
  }

  private finish(p: Pending, status: string): void {
    if (status === 'outdir' && !p.retried && !p.settled && this.shell) {
      // The output folder was removed while berth runs: made again, and the program started (it had not been).
      p.retried = true;
      this.dirMade = false;
      try {
        this.makeDir();
        this.shell.proc.stdin!.write(commandLine(p));
        return;
      } catch {
        // reported below
      }
    }
    this.pending.delete(p.id);
    const stdout = readStart(p.out, this.maxOutput);
    const stderr = readStart(p.err, this.maxOutput);
    removeQuietly(p.out);
    removeQuietly(p.err);
    if (status === 'cwd') return this.settle(p, () => p.reject(new LaunchError(`cannot enter the folder ${p.req.cwd}`)));
    if (status === 'missing') return this.settle(p, () => p.reject(new LaunchError(`${p.req.file} was not found in PATH or is not executable`)));
    if (status === 'outdir') return this.settle(p, () => p.reject(new LaunchError(`cannot write the program's output into ${this.opts.outputDir}`)));
    if (status === 'lost') return this.settle(p, () => p.reject(new LaunchError(`the shell ${this.shellPath} could not start ${p.req.file}: ${p.req.file}'s subshell ended early`)));
    const truncated = stdout.truncated || stderr.truncated;
    this.settle(p, () => p.resolve({ code: Number(status), signal: null, stdout: stdout.text, stderr: stderr.text, ...(truncated ? { truncated } : {}) }));
  }

  private settle(p: Pending, then: () => void): void {
    if (p.settled) return;
    p.settled = true;
    if (p.onAbort) p.req.signal?.removeEventListener('abort', p.onAbort);
    then();
  }

  private kill(p: Pending): void {
    try {
      process.kill(p.pid!, 'SIGTERM');
    } catch {
      // already ended
    }
  }
}

/** While a launch is pending the shell's stdout keeps berth alive; an idle shell does not. */
function setRef(shell: Shell, on: boolean): void {
  const out = shell.proc.stdout as unknown as { ref?: () => void; unref?: () => void } | null;
  if (on) out?.ref?.();
  else out?.unref?.();
}

function commandLine(p: Pending): string {
  const { id, req } = p;
  const q = shellQuote;
  const exports = Object.entries(req.env)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `${k}=${q(v)}`);
  const setEnv = exports.length ? `export ${exports.join(' ')}; ` : '';
  const argv = [req.file, ...req.args].map(q).join(' ');
  return (
    `jobs >/dev/null; { trap 'echo "E ${id} lost"' EXIT; cd ${q(req.cwd)} 2>/dev/null || { trap - EXIT; echo "E ${id} cwd"; exit 0; }; unset OLDPWD PWD SHLVL; ${setEnv}` +
    `command -v ${q(req.file)} >/dev/null 2>&1 || { trap - EXIT; echo "E ${id} missing"; exit 0; }; ` +
    `{ true >${q(p.out)} && true >${q(p.err)}; } 2>/dev/null || { trap - EXIT; echo "E ${id} outdir"; exit 0; }; ` +
    `exec ${argv} </dev/null >${q(p.out)} 2>${q(p.err)} & echo "P ${id} $!"; wait "$!"; s=$?; trap - EXIT; echo "E ${id} $s"; } &\n`
  );
}

function readStart(path: string, max: number): { text: string; truncated: boolean } {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return { text: '', truncated: false };
  }
  try {
    const total = fstatSync(fd).size;
    const size = Math.min(total, max);
    const buf = Buffer.allocUnsafe(size);
    let n = 0;
    for (let got = -1; got !== 0 && n < size; n += got) got = readSync(fd, buf, n, size - n, null);
    return { text: buf.toString('utf8', 0, n), truncated: total > max };
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
