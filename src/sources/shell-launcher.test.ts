import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LaunchError, type LaunchRequest } from './process-launcher.js';
import { ShellLauncher, shellQuote } from './shell-launcher.js';

const PATH = process.env.PATH ?? '/usr/bin:/bin';
let root: string;
const open: ShellLauncher[] = [];

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'berth-launcher-'));
});
afterEach(async () => {
  for (const l of open.splice(0)) await l.close();
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function launcher(opts: { shell?: string; maxOutputBytes?: number } = {}): ShellLauncher {
  const l = new ShellLauncher({ outputDir: mkdtempSync(join(root, 'out-')) + '/launch', ...opts });
  open.push(l);
  return l;
}

const req = (file: string, args: string[], extra: Partial<LaunchRequest> = {}): LaunchRequest => ({ file, args, cwd: root, env: { PATH }, ...extra });

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const HOSTILE = ["it's", '$(touch /tmp/berth-pwned)', '`id`', '"double"', 'a\nb', '*', '', ' spaced ', ';exit 3', '\\', 'ünïcödé', "'", "''\\''"];

/** dash (Debian's /bin/sh), bash, and busybox's ash (Alpine's /bin/sh: busybox picks it by the name `sh`). */
const shells = ['/bin/sh', '/bin/bash', '/bin/busybox'].filter((s) => existsSync(s));
const shellPath = (shell: string): string => {
  if (!shell.endsWith('busybox')) return shell;
  const link = join(mkdtempSync(join(root, 'busybox-')), 'sh');
  symlinkSync(shell, link);
  return link;
};

describe.each(shells)('ShellLauncher with %s', (shellName) => {
  let shell: string;
  beforeAll(() => {
    shell = shellPath(shellName);
  });

  it('gives the program exactly the environment of the request, nothing of the shell or of berth', async () => {
    const env = { PATH, HOME: '/nonexistent', ODD: "x'y $(z) `w`\nnext line" };
    const r = await launcher({ shell }).launch(req('env', ['-0'], { env }));
    expect(r.code).toBe(0);
    const got = Object.fromEntries(r.stdout.split('\0').filter(Boolean).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
    // bash's `exec` exports SHLVL again whatever the script unset (adjust_shell_level); dash adds nothing.
    if (shell.endsWith('bash')) delete got.SHLVL;
    expect(got).toEqual(env);
  });

  it('passes every argument verbatim (quotes, substitutions, globs, newlines, empty strings): nothing is expanded', async () => {
    const r = await launcher({ shell }).launch(req('printf', ['%s\\0', ...HOSTILE]));
    expect(r.stdout.split('\0').slice(0, -1)).toEqual(HOSTILE);
    expect(existsSync('/tmp/berth-pwned')).toBe(false);
  });

  it('leaves no zombie behind: the shell reaps the subshells that waited for the programs', async () => {
    const l = launcher({ shell });
    for (let i = 0; i < 12; i++) await l.launch(req('true', []));
    await new Promise((r) => setTimeout(r, 100));
    await l.launch(req('true', [])); // reaps what ended before it
    const shellPid = l.shellPid!;
    const children = readFileSync(`/proc/${shellPid}/task/${shellPid}/children`, 'utf8').split(' ').filter(Boolean);
    const zombies = children.filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.startsWith('Z');
      } catch {
        return false;
      }
    });
    expect(zombies.length).toBeLessThanOrEqual(1); // at most the last launch's subshell, until the next launch
  });

  it('runs in the folder of the request and returns its exit code, stdout and stderr apart', async () => {
    const dir = mkdtempSync(join(root, "folder with 'quote' "));
    const r = await launcher({ shell }).launch(req('sh', ['-c', 'pwd; echo oops >&2; exit 3'], { cwd: dir }));
    expect(r).toEqual({ code: 3, signal: null, stdout: `${dir}\n`, stderr: 'oops\n' });
  });
});

describe('ShellLauncher', () => {
  it('cannot start a program that is not in PATH, or in a folder that does not exist: a LaunchError', async () => {
    const l = launcher();
    await expect(l.launch(req('berth-no-such-program', []))).rejects.toThrow(new LaunchError('berth-no-such-program was not found in PATH or is not executable'));
    await expect(l.launch(req('true', [], { cwd: join(root, 'missing') }))).rejects.toThrow(`cannot enter the folder ${join(root, 'missing')}`);
    expect((await l.launch(req('true', []))).code).toBe(0); // the shell goes on
  });

  it('stops the program on abort (SIGTERM), rejects at once with the signal\'s reason and keeps no output file', async () => {
    const l = launcher();
    const pidFile = join(root, 'abort.pid');
    const ac = new AbortController();
    const run = l.launch(req('sh', ['-c', `echo $$ > ${shellQuote(pidFile)}; exec sleep 30`], { signal: ac.signal }));
    await until(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'));
    const pid = Number(readFileSync(pidFile, 'utf8'));
    expect(alive(pid)).toBe(true);
    const reason = new Error('job canceled');
    const t0 = Date.now();
    ac.abort(reason);
    await expect(run).rejects.toBe(reason);
    expect(Date.now() - t0).toBeLessThan(1000);
    await until(() => !alive(pid));
    const outputDir = (l as unknown as { opts: { outputDir: string } }).opts.outputDir;
    await until(() => readdirSync(outputDir).length === 0);
  });

  it('an already aborted signal starts nothing', async () => {
    const ac = new AbortController();
    ac.abort(new Error('too late'));
    const marker = join(root, 'never-made');
    await expect(launcher().launch(req('touch', [marker], { signal: ac.signal }))).rejects.toThrow('too late');
    await new Promise((r) => setTimeout(r, 200));
    expect(existsSync(marker)).toBe(false);
  });

  it('reports a status above 128 as the exit code it may be (git exits 129 on a bad option): a shell cannot tell it from a signal berth did not send', async () => {
    const l = launcher();
    expect(await l.launch(req('sh', ['-c', 'exit 129']))).toMatchObject({ code: 129, signal: null });
    expect(await l.launch(req('git', ['--berth-no-such-option'], { env: { PATH, HOME: '/nonexistent' } }))).toMatchObject({ code: 129, signal: null });
    expect(await l.launch(req('sh', ['-c', 'kill -TERM $$']))).toMatchObject({ code: 143, signal: null });
  });

  it('makes its output folder again when it was removed while berth runs', async () => {
    const l = launcher();
    expect((await l.launch(req('echo', ['first']))).stdout).toBe('first\n');
    const outputDir = (l as unknown as { opts: { outputDir: string } }).opts.outputDir;
    rmSync(outputDir, { recursive: true, force: true });
    expect(await l.launch(req('sh', ['-c', 'echo second; echo e >&2']))).toEqual({ code: 0, signal: null, stdout: 'second\n', stderr: 'e\n' });
    expect(statSync(outputDir).mode & 0o777).toBe(0o700);
  });

  it('keeps many programs at once apart', async () => {
    const l = launcher();
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => l.launch(req('sh', ['-c', `sleep 0.0${i % 10}; echo out ${i}; echo err ${i} >&2; exit ${i % 7}`]))));
    results.forEach((r, i) => expect(r).toEqual({ code: i % 7, signal: null, stdout: `out ${i}\n`, stderr: `err ${i}\n` }));
  });

  it('keeps the first maxOutputBytes of each stream', async () => {
    const r = await launcher({ maxOutputBytes: 1000 }).launch(req('sh', ['-c', 'head -c 3000000 /dev/zero | tr "\\0" a; echo done >&2']));
    expect(r.stdout).toBe('a'.repeat(1000));
    expect(r.stderr).toBe('done\n');
    expect(r.truncated).toBe(true);
  });

  it('a shell that ends fails what is pending with a LaunchError, and the next launch starts a new shell', async () => {
    const l = launcher();
    const pidFile = join(root, 'orphan.pid');
    const pending = l.launch(req('sh', ['-c', `echo $$ > ${shellQuote(pidFile)}; exec sleep 30`]));
    await until(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').endsWith('\n'));
    const first = l.shellPid!;
    process.kill(first, 'SIGKILL');
    await expect(pending).rejects.toThrow(new LaunchError('the shell /bin/sh that starts programs for berth ended by SIGKILL'));
    expect((await l.launch(req('echo', ['again']))).stdout).toBe('again\n');
    expect(l.shellPid).not.toBe(first);
    process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGTERM'); // the program outlives its shell, as a forked one outlives berth
  });

  it('a subshell that ends before it reports fails its launch instead of leaving it pending', async () => {
    // A shell whose `command` ends the subshell that calls it (a function wins over a regular built-in).
    const shell = join(root, 'odd-shell');
    writeFileSync(shell, '#!/bin/sh\ncommand() { exit 5; }\nwhile IFS= read -r line; do eval "$line"; done\n', { mode: 0o755 });
    const l = launcher({ shell });
    await expect(l.launch(req('true', []))).rejects.toThrow(new LaunchError(`the shell ${shell} could not start true: true's subshell ended early`));
  });

  it('a shell that cannot start fails the launch with a LaunchError naming it', async () => {
    await expect(launcher({ shell: join(root, 'no-shell') }).launch(req('true', []))).rejects.toThrow(`the shell ${join(root, 'no-shell')} that starts programs for berth`);
  });

  it('refuses a NUL byte (a shell cannot carry it) and passes names a shell cannot export, or uses itself, through a fork', async () => {
    const l = launcher();
    await expect(l.launch(req('echo', ['a\0b']))).rejects.toThrow('contains a NUL byte');
    const r = await l.launch(req('env', [], { env: { PATH, 'NOT-A-SHELL-NAME': 'v', IFS: ':' } }));
    expect(r.stdout).toContain('NOT-A-SHELL-NAME=v\n');
    expect(r.stdout).toContain('IFS=:\n'); // a name the shell uses itself: through a fork too
  });

  it('keeps the output folder private, holds no reference on the event loop while idle, and close() ends the shell and removes the folder', async () => {
    const handles = (): number => process.getActiveResourcesInfo().filter((t) => t === 'PipeWrap' || t === 'ProcessWrap').length;
    const l = launcher();
    await l.launch(req('true', []));
    const outputDir = (l as unknown as { opts: { outputDir: string } }).opts.outputDir;
    expect(statSync(outputDir).mode & 0o777).toBe(0o700);
    await new Promise((r) => setTimeout(r, 50));
    const idle = handles();
    const pid = l.shellPid!;
    await l.close();
    await until(() => !alive(pid));
    await new Promise((r) => setTimeout(r, 50));
    expect(idle).toBe(handles()); // the idle shell's pipes and process kept nothing alive
    expect(existsSync(outputDir)).toBe(false);
    await expect(l.launch(req('true', []))).rejects.toThrow('berth is shutting down');
  });
});
