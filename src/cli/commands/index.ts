import type { Command } from 'commander';
import { register as registerAuth } from './auth.js';
import { register as registerExec } from './exec.js';

/**
 * Every command of berth. A command module exports `register(program)`; keep this list
 * sorted and one line per command.
 */
export function registerCommands(program: Command): void {
  registerAuth(program);
  registerExec(program);
}
