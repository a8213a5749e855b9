import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { MemoryByteWriter } from '../log/byte-writer.js';
import { stripAnsi } from '../shared/ansi.js';
import { MarkerFilter } from '../executor/marker-filter.js';
import { buildStageScript, type StageScriptInput } from './script-builder.js';

// The script is fed to real shells on this machine: bash, dash (/bin/sh on Debian), busybox ash.
const SHELLS: [string, string[]][] = [
  ['bash', ['bash']],
  ['dash', ['dash']],
  ['busybox', ['busybox', 'sh']],
];

function run(shell: string[], input: Partial<StageScriptInput>, chunkSize = 0) {
  const script = buildStageScript({ commands: [], exports: [], workDir: '/tmp', nonce: 'abc123', ...input });
  const res = spawnSync(shell[0]!, shell.slice(1), { input: script.text });
  const sink = new MemoryByteWriter();
  const filter = new MarkerFilter(sink, script.markers);
  const out = res.stdout;
  if (chunkSize) for (let i = 0; i < out.length; i += chunkSize) filter.write(out.subarray(i, i + chunkSize));
  else filter.write(out);
  filter.end();
  // stderr as the stage runner reads it: the exit marker comes on it too, filtered out.
  const errSink = new MemoryByteWriter();
  const errFilter = new MarkerFilter(errSink, script.markers);
  errFilter.write(res.stderr);
  errFilter.end();
  return { status: res.status, stdout: stripAnsi(sink.text), stderr: errSink.text, rawStderr: res.stderr.toString(), filter, errFilter };
}

describe.each(SHELLS)('stage script under %s', (_name, shell) => {
  it('echoes each command, runs it, and reports exit status 0', () => {
    const r = run(shell, { commands: ['echo hello', 'echo world'] });
    expect(r.stdout).toBe('$ echo hello\nhello\n$ echo world\nworld\n');
    expect(r.status).toBe(0);
    expect(r.filter.started).toBe(true);
    expect(r.filter.exitStatus).toBe(0);
  });

  it('writes the exit marker on stderr too, after the script\'s own stderr, with the same status', () => {
    const r = run(shell, { commands: ['echo out', 'echo err >&2', 'sh -c "exit 4"'] });
    expect(r.status).toBe(4);
    expect(r.filter.exitStatus).toBe(4);
    expect(r.errFilter.exitStatus).toBe(4);
    expect(r.rawStderr).toBe('err\n::berth-abc123-exit-004::\n');
    expect(r.stderr).toBe('err\n');
  });

  it('a script that closes its stderr (its commands run in a subshell) still ends with its own status and both markers', () => {
    const r = run(shell, { commands: ['exec 2>&-', 'echo still here', 'sh -c "exit 3"'] });
    expect(r.stdout).toContain('still here');
    expect(r.status).toBe(3);
    expect(r.filter.exitStatus).toBe(3);
    expect(r.errFilter.exitStatus).toBe(3);
  });

  it('stops at the first failing command and reports its status', () => {
    const r = run(shell, { commands: ['echo one', 'sh -c "exit 7"', 'echo never'] });
    expect(r.stdout).toBe('$ echo one\none\n$ sh -c "exit 7"\n');
    expect(r.status).toBe(7);
    expect(r.filter.exitStatus).toBe(7);
  });

  it('keeps the rest of the script away from commands that read stdin', () => {
    const r = run(shell, { commands: ['cat', 'echo after'] });
    expect(r.stdout).toBe('$ cat\n$ echo after\nafter\n');
    expect(r.status).toBe(0);
  });

  it('exports values byte for byte, however they are quoted', () => {
    const value = `it's "quoted" $(touch /tmp/pwned) \`id\` $HOME \\ \n second line`;
    const r = run(shell, { exports: [{ key: 'TRICKY', value }], commands: ['printf "%s" "$TRICKY"'] });
    expect(r.stdout).toBe(`$ printf "%s" "$TRICKY"\n${value}`);
  });

  it('runs commands in the work dir and removes the markers at any write boundary', () => {
    const r = run(shell, { commands: ['pwd', 'printf "no newline"'], workDir: '/' }, 1);
    expect(r.stdout).toBe('$ pwd\n/\n$ printf "no newline"\nno newline');
    expect(r.filter.exitStatus).toBe(0);
  });

  it('shows multi-line commands collapsed and runs them whole', () => {
    const r = run(shell, { commands: ['if true; then\n  echo inside\nfi'] });
    expect(r.stdout).toBe('$ if true; then # collapsed multi-line command\ninside\n');
  });

  it('skips variables whose names a shell cannot export', () => {
    const r = run(shell, { exports: [{ key: 'BAD-KEY', value: 'x' }, { key: 'OK_KEY', value: 'y' }], commands: ['echo $OK_KEY'] });
    expect(r.stdout).toBe('$ echo $OK_KEY\ny\n');
    expect(r.status).toBe(0);
  });
});

describe('pipefail', () => {
  it('is on where the shell has it (bash, busybox) so a failing pipe fails the job', () => {
    expect(run(['bash'], { commands: ['false | true'] }).status).toBe(1);
    expect(run(['busybox', 'sh'], { commands: ['false | true'] }).status).toBe(1);
  });
  it('is skipped without error where the shell lacks it (dash)', () => {
    const r = run(['dash'], { commands: ['false | true', 'echo ok'] });
    expect(r.stdout).toContain('ok');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});

const hasStrace = spawnSync('strace', ['-V']).status === 0;

describe('forks', () => {
  it.skipIf(!hasStrace)('the script itself starts no process before the commands: one subshell for them (a fork costs a loaded host milliseconds)', () => {
    // strace counts the shell's forks (clone/fork/vfork) for a script whose only command is a built-in.
    const dir = mkdtempSync(join(tmpdir(), 'berth-strace-'));
    try {
      const out = join(dir, 'trace');
      const r = spawnSync('strace', ['-f', '-e', 'trace=clone,clone3,fork,vfork', '-o', out, 'busybox', 'sh'], { input: buildStageScript({ commands: ['echo hi'], exports: [], workDir: '/', nonce: 'n' }).text, encoding: 'utf8' });
      if (r.error) throw r.error;
      expect(r.stdout).toContain('hi');
      expect(readFileSync(out, 'utf8').split('\n').filter((l) => /\b(clone3?|v?fork)\(/.test(l))).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('debug trace', () => {
  it('traces commands with xtrace when asked', () => {
    const r = run(['bash'], { commands: ['echo traced'], debugTrace: true });
    expect(r.stderr).toContain('+ echo traced');
  });
});
