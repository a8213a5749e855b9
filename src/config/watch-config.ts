/**
 * Reloads config.toml when it changes, as gitlab-runner does: its mtime is checked every 3 s, and
 * `reload()` (the daemon calls it on SIGHUP) reloads at once. A file that fails to load leaves the
 * old config in place and is reported once per mtime ("Failed to load config ..."); the next
 * change is tried again. A file that does not exist yet is loaded once it appears (`berth run`
 * started before `berth register`). After `stop()` no timer is left and no callback runs.
 */
import { stat } from 'node:fs/promises';
import { BerthError, errorMessage } from '../shared/errors.js';
import { loadConfig, type LoadedConfig } from './load-config.js';

export interface WatchOptions {
  /** Poll period (default 3000 ms). */
  intervalMs?: number;
  /** mtime of the config the caller already has; default: the file's mtime at the first check. */
  mtimeMs?: number;
  /** How to load (default: loadConfig(path)). */
  load?: (path: string) => Promise<LoadedConfig>;
  /** How to read the mtime (default: fs.stat). */
  mtimeOf?: (path: string) => Promise<number>;
  /** The file did not exist at start and the caller said so: its absence is not reported again (its appearance loads it). */
  missing?: boolean;
}

export type StopWatching = (() => void) & {
  /** Loads the file now whatever its mtime (SIGHUP); a failure is always reported. */
  reload(): Promise<void>;
};

export function watchConfig(
  path: string,
  onChange: (loaded: LoadedConfig) => void,
  onError: (err: BerthError) => void,
  opts: WatchOptions = {},
): StopWatching {
  const intervalMs = opts.intervalMs ?? 3000;
  const load = opts.load ?? ((p: string) => loadConfig(p));
  const mtimeOf = opts.mtimeOf ?? (async (p: string) => (await stat(p)).mtimeMs);
  let known = opts.mtimeMs;
  let failed: number | undefined = opts.missing ? -1 : undefined;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let queue = Promise.resolve();

  const report = (err: unknown): void => {
    if (stopped) return;
    onError(new BerthError('config_reload', `Failed to load config ${path}: ${errorMessage(err)}. Keeping the previous configuration`, { cause: err }));
  };

  const reloadAt = async (mtime: number): Promise<void> => {
    let loaded: LoadedConfig;
    try {
      loaded = await load(path);
    } catch (err) {
      failed = mtime;
      report(err);
      return;
    }
    if (stopped) return;
    known = loaded.mtimeMs || mtime;
    failed = undefined;
    try {
      onChange(loaded);
    } catch (err) {
      report(err);
    }
  };

  const check = async (): Promise<void> => {
    let mtime: number;
    try {
      mtime = await mtimeOf(path);
    } catch (err) {
      if (failed !== -1) report(err);
      failed = -1;
      return;
    }
    if (known === undefined) known = mtime;
    else if (mtime !== known && mtime !== failed) await reloadAt(mtime);
  };

  const enqueue = (task: () => Promise<void>): Promise<void> => (queue = queue.then(() => (stopped ? undefined : task())));

  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = undefined;
      void enqueue(check).then(schedule);
    }, intervalMs);
    timer.unref();
  };
  schedule();

  const stop = (() => {
    stopped = true;
    if (timer) clearTimeout(timer);
    timer = undefined;
  }) as StopWatching;
  stop.reload = () => enqueue(async () => reloadAt(await mtimeOf(path).catch(() => -1)));
  return stop;
}
