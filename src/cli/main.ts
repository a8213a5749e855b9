#!/usr/bin/env node
/**
 * berth's command line. Each command lives in cli/commands/<name>.ts and registers itself on
 * the program; its implementation is imported lazily inside the action, so `berth exec --list`
 * never loads the Docker client. Errors are printed here, once.
 */
import { Command, CommanderError } from 'commander';
import { pathToFileURL } from 'node:url';
import { realpathSync } from 'node:fs';
import { BERTH_VERSION } from '../shared/version.js';
import { reportError } from './report-error.js';
import { registerCommands } from './commands/index.js';

export function buildProgram(): Command {
  const program = new Command('berth')
    .description('A GitLab-compatible CI/CD runner that runs every job in Docker containers')
    .version(BERTH_VERSION, '-v, --version')
    .showHelpAfterError()
    .exitOverride();
  registerCommands(program);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; usage errors 2 (commander already printed the message).
      return err.exitCode === 0 ? 0 : 2;
    }
    return reportError(err);
  }
}

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(entry)).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.exitCode = reportError(err);
    },
  );
}
