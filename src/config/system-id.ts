/**
 * The runner manager's system id, kept in `.runner_system_id` next to config.toml (mode 0600),
 * exactly as gitlab-runner keeps it, so swapping binaries keeps the same id: `s_` + the first 12
 * hex digits of HMAC-SHA256(key = machine id, "gitlab-runner") when the host has a machine id
 * (never the machine id itself), else `r_` + 12 random letters and digits. Created once, reused.
 */
import { createHmac, randomInt } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BerthError, errorMessage } from '../shared/errors.js';

const VALID = /^[sr]_[0-9a-zA-Z]{12}$/;
const MACHINE_ID_FILES = ['/etc/machine-id', '/var/lib/dbus/machine-id'];
const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

export interface SystemIdOptions {
  /** Where to look for the machine id (tests). */
  machineIdFiles?: readonly string[];
}

export function systemIdPath(configPath: string): string {
  return join(dirname(configPath), '.runner_system_id');
}

/** Reads the system id next to `configPath`, creating it on first use. */
export async function loadOrCreateSystemId(configPath: string, opts: SystemIdOptions = {}): Promise<string> {
  const path = systemIdPath(configPath);
  const existing = await readSystemId(path);
  if (existing) return existing;
  const id = await generateSystemId(opts.machineIdFiles ?? MACHINE_ID_FILES);
  try {
    await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    await writeFile(path, id, { mode: 0o600, flag: existing === undefined ? 'wx' : 'w' });
    return id;
  } catch (err) {
    // Another process created it first: use that one.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') {
      const other = await readSystemId(path);
      if (other) return other;
    }
    throw new BerthError(
      'system_id',
      `Failed to save the runner system id to ${path}: ${errorMessage(err)}. Make the directory writable, or create the file with: echo ${id} > ${path}`,
      { cause: err },
    );
  }
}

/** The id in `path`; '' when the file exists but holds no valid id; undefined when there is no file. */
async function readSystemId(path: string): Promise<string | undefined> {
  try {
    const text = (await readFile(path, 'utf8')).trim();
    return VALID.test(text) ? text : '';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new BerthError('system_id', `Failed to read the runner system id from ${path}: ${errorMessage(err)}`, { cause: err });
  }
}

export async function generateSystemId(machineIdFiles: readonly string[]): Promise<string> {
  for (const file of machineIdFiles) {
    const machineId = await readFile(file, 'utf8').then((t) => t.trim(), () => '');
    if (machineId) return `s_${createHmac('sha256', machineId).update('gitlab-runner').digest('hex').slice(0, 12)}`;
  }
  return `r_${Array.from({ length: 12 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('')}`;
}
