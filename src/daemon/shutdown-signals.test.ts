import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { ShutdownSignals } from './shutdown-signals.js';

function machine() {
  const actions: string[] = [];
  const lines: string[] = [];
  const signals = new ShutdownSignals(
    { drain: () => actions.push('drain'), abort: (s) => actions.push(`abort ${s}`), reload: () => actions.push('reload') },
    { info: (m: string) => lines.push(m), warn: (m: string) => lines.push(m) },
  );
  let forced = false;
  void signals.forced.then(() => (forced = true));
  const settled = (): Promise<void> => new Promise((r) => setImmediate(r));
  return { signals, actions, lines, isForced: async () => (await settled(), forced) };
}

describe('ShutdownSignals', () => {
  it('SIGQUIT drains once; a second SIGQUIT changes nothing', async () => {
    const m = machine();
    m.signals.handle('SIGQUIT');
    m.signals.handle('SIGQUIT');
    expect(m.signals.mode).toBe('draining');
    expect(m.actions).toEqual(['drain']);
    expect(m.lines).toEqual(['SIGQUIT received: no new jobs; exiting once running jobs finish']);
    expect(await m.isForced()).toBe(false);
  });

  it('SIGTERM aborts with the signal\'s name; a second SIGTERM or SIGINT forces the exit', async () => {
    const m = machine();
    m.signals.handle('SIGTERM');
    expect(m.signals.mode).toBe('aborting');
    expect(await m.isForced()).toBe(false);
    m.signals.handle('SIGINT');
    expect(m.actions).toEqual(['abort SIGTERM']);
    expect(await m.isForced()).toBe(true);
    expect(m.lines).toEqual([
      'SIGTERM received: aborting running jobs (press again to exit at once)',
      'SIGINT received again: exiting now; the next start removes what is left',
    ]);
  });

  it('SIGINT while draining aborts the running jobs; SIGQUIT while aborting is ignored', async () => {
    const m = machine();
    m.signals.handle('SIGQUIT');
    m.signals.handle('SIGINT');
    m.signals.handle('SIGQUIT');
    expect(m.signals.mode).toBe('aborting');
    expect(m.actions).toEqual(['drain', 'abort SIGINT']);
    expect(await m.isForced()).toBe(false);
  });

  it('SIGHUP reloads in any mode', () => {
    const m = machine();
    m.signals.handle('SIGHUP');
    m.signals.handle('SIGTERM');
    m.signals.handle('SIGHUP');
    expect(m.actions).toEqual(['reload', 'abort SIGTERM', 'reload']);
  });

  it('listens to an injected source and unsubscribes every listener', () => {
    const m = machine();
    const source = new EventEmitter();
    const unlisten = m.signals.listen(source);
    expect(['SIGQUIT', 'SIGTERM', 'SIGINT', 'SIGHUP'].map((s) => source.listenerCount(s))).toEqual([1, 1, 1, 1]);
    source.emit('SIGQUIT');
    expect(m.signals.mode).toBe('draining');
    unlisten();
    expect(source.eventNames()).toEqual([]);
    source.emit('SIGTERM');
    expect(m.signals.mode).toBe('draining');
  });
});
