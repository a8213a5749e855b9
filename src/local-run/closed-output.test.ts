import { EventEmitter } from 'node:events';
import { describe, expect, it, vi } from 'vitest';
import { stopWhenOutputCloses } from './closed-output.js';

const epipe = (): Error => Object.assign(new Error('write EPIPE'), { code: 'EPIPE', syscall: 'write' });

describe('stopWhenOutputCloses', () => {
  it('stops the jobs once on the first broken pipe of stdout or stderr, and keeps swallowing later ones', () => {
    const stdout = new EventEmitter();
    const stderr = new EventEmitter();
    const stop = vi.fn();
    const dispose = stopWhenOutputCloses([stdout, stderr], stop);
    stdout.emit('error', epipe());
    stderr.emit('error', epipe());
    stdout.emit('error', Object.assign(new Error('Cannot call write after a stream was destroyed'), { code: 'ERR_STREAM_DESTROYED' }));
    expect(stop).toHaveBeenCalledTimes(1);
    dispose();
    // Still handled after dispose: a broken stream keeps failing the writes still queued.
    expect(() => stdout.emit('error', epipe())).not.toThrow();
  });

  it('leaves other errors unhandled, and removes its handler when nothing broke', () => {
    const stdout = new EventEmitter();
    const stop = vi.fn();
    const dispose = stopWhenOutputCloses([stdout], stop);
    expect(() => stdout.emit('error', Object.assign(new Error('EIO'), { code: 'EIO' }))).toThrow('EIO');
    dispose();
    expect(stdout.listenerCount('error')).toBe(0);
    expect(stop).not.toHaveBeenCalled();
  });
});
