import { describe, expect, it } from 'vitest';
import { raceShutdown, type ShutdownRace } from './shutdown-race.js';

function race(over: Partial<ShutdownRace>) {
  const lines: string[] = [];
  const log = { info: (m: string) => lines.push(m), warn: (m: string) => lines.push(m) };
  const never = new Promise<void>(() => undefined);
  return { lines, run: () => raceShutdown({ mode: 'aborting', idle: () => never, forced: never, timeoutMs: 60_000, log, ...over }) };
}

const after = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('raceShutdown', () => {
  it('draining waits for the jobs however long they take (no shutdown_timeout), then exits 0', async () => {
    const r = race({ mode: 'draining', idle: () => after(80), timeoutMs: 10 });
    const started = Date.now();
    expect(await r.run()).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(70);
    expect(r.lines).toEqual(['All jobs finished: exiting']);
  });

  it('draining ends at once on a forced exit', async () => {
    const r = race({ mode: 'draining', forced: Promise.resolve() });
    expect(await r.run()).toBe(0);
  });

  it('aborting exits 0 when the jobs finish within shutdown_timeout', async () => {
    const r = race({ idle: () => after(10), timeoutMs: 5_000 });
    const started = Date.now();
    expect(await r.run()).toBe(0);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(r.lines).toEqual([]);
  });

  it('aborting exits 1 after shutdown_timeout when the jobs do not finish', async () => {
    const r = race({ timeoutMs: 50 });
    expect(await r.run()).toBe(1);
    expect(r.lines).toEqual(['Shutdown did not finish in time: exiting; the next start removes what is left']);
  });

  it('aborting exits 1 at once on a forced exit, and leaves no timer behind', async () => {
    const r = race({ forced: Promise.resolve(), timeoutMs: 3_600_000 });
    const before = process.getActiveResourcesInfo().filter((x) => x === 'Timeout').length;
    expect(await r.run()).toBe(1);
    expect(process.getActiveResourcesInfo().filter((x) => x === 'Timeout').length).toBe(before);
  });
});
