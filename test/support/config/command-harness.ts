/**
 * Runs one config command (register, verify, unregister, list) in-process against a fake GitLab,
 * with captured output and a config.toml in a temporary directory.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Command } from 'commander';
import type { ConfigCommandDeps } from '../../../src/cli/commands/register.js';
import { FakeRegistrationApi, type FakeScript } from './fake-registration-api.js';

type Registrar = (program: Command, deps: Partial<ConfigCommandDeps>) => void;

export class CommandHarness {
  stdout = '';
  stderr = '';
  readonly api: FakeRegistrationApi;

  /** Use the real GitLabClient (against a GitLabTestServer) instead of the fake. */
  realGitLab = false;

  private constructor(
    readonly dir: string,
    script: FakeScript,
    readonly env: NodeJS.ProcessEnv,
  ) {
    this.api = new FakeRegistrationApi(script);
  }

  static async create(script: FakeScript = {}, env: NodeJS.ProcessEnv = {}): Promise<CommandHarness> {
    return new CommandHarness(await mkdtemp(join(tmpdir(), 'berth-cmd-')), script, env);
  }

  get configPath(): string {
    return join(this.dir, 'config.toml');
  }

  readConfig(): Promise<string> {
    return readFile(this.configPath, 'utf8');
  }

  /** Runs `berth <args>` with `-c <configPath>` appended; resolves with the thrown error, if any. */
  async run(registrar: Registrar, args: string[]): Promise<unknown> {
    const program = new Command('berth').exitOverride();
    const sink = (key: 'stdout' | 'stderr') =>
      new Writable({
        write: (chunk: Buffer, _enc, done) => {
          this[key] += chunk.toString();
          done();
        },
      });
    registrar(program, {
      ...(this.realGitLab ? {} : { registrationApi: this.api.factory }),
      env: this.env,
      stdout: sink('stdout'),
      stderr: sink('stderr'),
      now: () => new Date('2024-06-01T12:34:56.789Z'),
      hostname: () => 'test-host',
    });
    try {
      await program.parseAsync(['node', 'berth', ...args, '-c', this.configPath]);
      return undefined;
    } catch (err) {
      return err;
    }
  }

  cleanup(): Promise<void> {
    return rm(this.dir, { recursive: true, force: true });
  }
}
