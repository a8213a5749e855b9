import { mkdtemp, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { BerthError } from '../shared/errors.js';
import { defaultConfig } from './berth-config.js';
import type { LoadedConfig } from './load-config.js';
import { watchConfig } from './watch-config.js';

function fakeFile() {
  const state = { mtime: 1, text: 'ok-1', loads: 0 };
  return {
    state,
    opts: {
      mtimeMs: 1,
      mtimeOf: async () => state.mtime,
      load: async (): Promise<LoadedConfig> => {
        state.loads++;
        if (state.text.startsWith('bad')) throw new Error(`${state.text}: invalid TOML`);
        return { config: { ...defaultConfig(), listenAddress: state.text }, warnings: [], mtimeMs: state.mtime };
      },
    },
  };
}

describe('watchConfig (polling, fake timers)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('reloads when the mtime changes, every 3 s', async () => {
    const f = fakeFile();
    const changes: string[] = [];
    const stop = watchConfig('/c.toml', (l) => changes.push(l.config.listenAddress), () => undefined, f.opts);
    await vi.advanceTimersByTimeAsync(3000);
    expect(f.state.loads).toBe(0);
    f.state.mtime = 2;
    f.state.text = 'ok-2';
    await vi.advanceTimersByTimeAsync(2999);
    expect(changes).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(changes).toEqual(['ok-2']);
    stop();
  });

  it('keeps the old config after a bad reload and reports it once per mtime', async () => {
    const f = fakeFile();
    const changes: string[] = [];
    const errors: BerthError[] = [];
    const stop = watchConfig('/c.toml', (l) => changes.push(l.config.listenAddress), (e) => errors.push(e), f.opts);
    f.state.mtime = 2;
    f.state.text = 'bad-2';
    await vi.advanceTimersByTimeAsync(3000 * 4);
    expect(changes).toEqual([]);
    expect(errors.map((e) => e.message)).toEqual(['Failed to load config /c.toml: bad-2: invalid TOML. Keeping the previous configuration']);
    expect(f.state.loads).toBe(1);
    f.state.mtime = 3;
    f.state.text = 'ok-3';
    await vi.advanceTimersByTimeAsync(3000);
    expect(changes).toEqual(['ok-3']);
    expect(errors).toHaveLength(1);
    stop();
  });

  it('a file missing at start (already reported) is not reported again and is loaded once it appears', async () => {
    const f = fakeFile();
    const changes: string[] = [];
    const errors: BerthError[] = [];
    let exists = false;
    const opts = { ...f.opts, mtimeMs: 0, missing: true, mtimeOf: async () => (exists ? f.state.mtime : Promise.reject(new Error('ENOENT: no such file or directory'))) };
    const stop = watchConfig('/c.toml', (l) => changes.push(l.config.listenAddress), (e) => errors.push(e), opts);
    await vi.advanceTimersByTimeAsync(3000 * 3);
    expect(errors).toEqual([]);
    expect(f.state.loads).toBe(0);
    exists = true;
    f.state.text = 'registered';
    await vi.advanceTimersByTimeAsync(3000);
    expect(changes).toEqual(['registered']);
    expect(errors).toEqual([]);
    stop();
  });

  it('reload() loads at once and always reports a failure', async () => {
    const f = fakeFile();
    const errors: BerthError[] = [];
    const changes: string[] = [];
    const stop = watchConfig('/c.toml', (l) => changes.push(l.config.listenAddress), (e) => errors.push(e), f.opts);
    await stop.reload();
    expect(changes).toEqual(['ok-1']);
    f.state.text = 'bad';
    await stop.reload();
    await stop.reload();
    expect(errors).toHaveLength(2);
    stop();
  });

  it('leaves no timer after stop, and calls nothing after it', async () => {
    const f = fakeFile();
    const onChange = vi.fn();
    const stop = watchConfig('/c.toml', onChange, vi.fn(), f.opts);
    expect(vi.getTimerCount()).toBe(1);
    stop();
    expect(vi.getTimerCount()).toBe(0);
    f.state.mtime = 5;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(onChange).not.toHaveBeenCalled();
    expect(f.state.loads).toBe(0);
  });

  it('stops cleanly while a check is running', async () => {
    const f = fakeFile();
    f.state.mtime = 2;
    const onChange = vi.fn();
    const stop = watchConfig('/c.toml', onChange, vi.fn(), f.opts);
    await vi.advanceTimersByTimeAsync(3000);
    stop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('watchConfig (real file)', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-watch-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('picks up an edit, survives a corrupted file, keeps the old config', async () => {
    const path = join(dir, 'config.toml');
    await writeFile(path, 'concurrent = 2\n', { mode: 0o600 });
    let current = 2;
    const errors: string[] = [];
    const stop = watchConfig(path, (l) => (current = l.config.concurrent), (e) => errors.push(e.message), { intervalMs: 10 });
    // Replace the file in one step (as editors do), with an mtime clearly after the last one.
    const replace = async (text: string, secondsAhead: number) => {
      await writeFile(`${path}.new`, text, { mode: 0o600 });
      await utimes(`${path}.new`, new Date(), new Date(Date.now() + secondsAhead * 1000));
      await rename(`${path}.new`, path);
    };
    const until = async (cond: () => boolean) => {
      for (let i = 0; i < 300 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
    };
    await new Promise((r) => setTimeout(r, 30));
    await replace('concurrent = 5\n', 5);
    await until(() => current === 5);
    expect(current).toBe(5);
    await replace('concurrent = [\n', 10);
    await until(() => errors.length > 0);
    expect(current).toBe(5);
    expect(errors).toEqual([`Failed to load config ${path}: ${path}:2:1: invalid TOML: invalid value. Keeping the previous configuration`]);
    stop();
  });
});
