import type { Command } from 'commander';
import { register as registerAuth } from './auth.js';

/**
 * Every command of berth. A command module exports `register(program)`; keep this list
 * sorted and one line per command.
 */
export function registerCommands(program: Command): void {
  registerAuth(program);
}
