import type { Command } from 'commander';
import { register as registerAuth } from './auth.js';
import { register as registerExec } from './exec.js';
import { register as registerList } from './list.js';
import { register as registerRegister } from './register.js';
import { register as registerRun } from './run.js';
import { register as registerUnregister } from './unregister.js';
import { register as registerVerify } from './verify.js';

/**
 * Every command of berth. A command module exports `register(program)`; keep this list
 * sorted and one line per command.
 */
export function registerCommands(program: Command): void {
  registerAuth(program);
  registerExec(program);
  registerList(program);
  registerRegister(program);
  registerRun(program);
  registerUnregister(program);
  registerVerify(program);
}
