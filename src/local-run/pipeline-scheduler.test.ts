import { describe, expect, it } from 'vitest';
import type { JobResult } from '../job/job-result.js';
import { testJob } from '../../test/support/job-fixtures.js';
import { schedulePipeline, type SchedulableJob } from './pipeline-scheduler.js';

const STAGES = ['.pre', 'build', 'test', 'deploy', '.post'];

function job(name: string, stage: string, extra: Partial<SchedulableJob> = {}): SchedulableJob {
  return { name, stage, when: 'on_success', allowFailure: false, allowFailureExitCodes: [], needs: null, spec: testJob(), ...extra };
}

const ok: JobResult = { state: 'success', failureReason: null, exitCode: 0, durationMs: 1, message: null };
const fail = (code: number): JobResult => ({ state: 'failed', failureReason: 'script_failure', exitCode: code, durationMs: 1, message: `exit code ${code}` });

async function schedule(jobs: SchedulableJob[], results: Record<string, JobResult> = {}, opts: { concurrency?: number; manual?: string[] } = {}) {
  const order: string[] = [];
  let active = 0;
  let maxActive = 0;
  const outcomes = await schedulePipeline(jobs, {
    stages: STAGES,
    concurrency: opts.concurrency ?? 4,
    runManual: new Set(opts.manual ?? []),
    runJob: async (j) => {
      order.push(`start ${j.name}`);
      active++;
      maxActive = Math.max(maxActive, active);
      await new Promise((r) => setTimeout(r, 5));
      active--;
      order.push(`end ${j.name}`);
      return results[j.name] ?? ok;
    },
  });
  return { status: Object.fromEntries(outcomes.map((o) => [o.job.name, o.status])), outcomes, order, maxActive };
}

describe('schedulePipeline', () => {
  it('runs stages in order, jobs of one stage in parallel', async () => {
    const r = await schedule([job('b1', 'build'), job('b2', 'build'), job('t1', 'test')]);
    expect(r.status).toEqual({ b1: 'success', b2: 'success', t1: 'success' });
    expect(r.order.indexOf('start t1')).toBeGreaterThan(r.order.indexOf('end b1'));
    expect(r.order.indexOf('start t1')).toBeGreaterThan(r.order.indexOf('end b2'));
    expect(r.maxActive).toBe(2);
  });

  it('starts a job with needs as soon as its needs are done, not its whole stage', async () => {
    const order: string[] = [];
    const slow = job('slow', 'build');
    const fast = job('fast', 'build');
    const r = await schedulePipeline([slow, fast, job('after-fast', 'test', { needs: [{ job: 'fast', optional: false }] })], {
      stages: STAGES,
      concurrency: 4,
      runManual: new Set(),
      runJob: async (j) => {
        await new Promise((res) => setTimeout(res, j.name === 'slow' ? 200 : 5));
        return ok;
      },
      onStatus: (o) => order.push(o.job.name),
    });
    expect(r.every((o) => o.status === 'success')).toBe(true);
    expect(order.indexOf('after-fast')).toBeLessThan(order.indexOf('slow'));
  });

  it('skips on_success jobs after a failure, runs on_failure and always jobs', async () => {
    const r = await schedule(
      [job('b', 'build'), job('t', 'test'), job('cleanup', 'deploy', { when: 'on_failure' }), job('notify', 'deploy', { when: 'always' })],
      { b: fail(1) },
    );
    expect(r.status).toEqual({ b: 'failed', t: 'skipped', cleanup: 'success', notify: 'success' });
  });

  it('runs a delayed job at once as on_success would (start_in is not waited), and skips it after a failure', async () => {
    const r = await schedule([job('b', 'build'), job('later', 'test', { when: 'delayed' })]);
    expect(r.status).toEqual({ b: 'success', later: 'success' });
    const failed = await schedule([job('b', 'build'), job('later', 'test', { when: 'delayed' })], { b: fail(1) });
    expect(failed.status).toEqual({ b: 'failed', later: 'skipped' });
  });

  it('does not run on_failure jobs when everything passed', async () => {
    const r = await schedule([job('b', 'build'), job('cleanup', 'deploy', { when: 'on_failure' })]);
    expect(r.status).toEqual({ b: 'success', cleanup: 'skipped' });
  });

  it('lets the pipeline go on after an allowed failure, by flag or by exit code', async () => {
    const r = await schedule(
      [job('a', 'build', { allowFailure: true }), job('b', 'build', { allowFailureExitCodes: [3] }), job('t', 'test')],
      { a: fail(1), b: fail(3) },
    );
    expect(r.status).toEqual({ a: 'failed', b: 'failed', t: 'success' });
    expect(r.outcomes.filter((o) => o.allowedToFail).map((o) => o.job.name)).toEqual(['a', 'b']);
  });

  it('does not allow a failure with another exit code than exit_codes', async () => {
    const r = await schedule([job('b', 'build', { allowFailureExitCodes: [3] }), job('t', 'test')], { b: fail(4) });
    expect(r.status).toEqual({ b: 'failed', t: 'skipped' });
    expect(r.outcomes[0]!.allowedToFail).toBe(false);
  });

  it('leaves manual jobs alone unless named, and skips what needs them', async () => {
    const r = await schedule([job('m', 'build', { when: 'manual' }), job('t', 'test', { needs: [{ job: 'm', optional: false }] }), job('u', 'test')]);
    expect(r.status).toEqual({ m: 'manual', t: 'skipped', u: 'success' });
    const named = await schedule([job('m', 'build', { when: 'manual' })], {}, { manual: ['m'] });
    expect(named.status).toEqual({ m: 'success' });
  });

  it('isolates a failing job: independent jobs still run, dependents are skipped', async () => {
    const r = await schedule(
      [
        job('broken', 'build', { needs: [] }),
        job('fine', 'build', { needs: [] }),
        job('after-broken', 'test', { needs: [{ job: 'broken', optional: false }] }),
        job('after-fine', 'test', { needs: [{ job: 'fine', optional: false }] }),
      ],
      { broken: { state: 'failed', failureReason: 'image_pull_failure', exitCode: null, durationMs: 1, message: 'pull' } },
    );
    expect(r.status).toEqual({ broken: 'failed', fine: 'success', 'after-broken': 'skipped', 'after-fine': 'success' });
  });

  it('never runs more jobs at once than the concurrency', async () => {
    const jobs = Array.from({ length: 7 }, (_, i) => job(`j${i}`, 'build'));
    const r = await schedule(jobs, {}, { concurrency: 3 });
    expect(r.maxActive).toBe(3);
    expect(Object.values(r.status).every((s) => s === 'success')).toBe(true);
  });

  it('marks jobs not yet started as canceled once stopped', async () => {
    const stop = new AbortController();
    const outcomes = await schedulePipeline([job('a', 'build'), job('b', 'test')], {
      stages: STAGES,
      concurrency: 1,
      runManual: new Set(),
      stop: stop.signal,
      runJob: async () => {
        stop.abort();
        return { ...ok, state: 'canceled', failureReason: 'job_canceled' };
      },
    });
    expect(outcomes.map((o) => o.status)).toEqual(['canceled', 'canceled']);
  });

  it('runs a failed job again as retry: says, before what waits for it; a success ends the retries', async () => {
    const runs: string[] = [];
    const results: Record<string, JobResult[]> = { flaky: [fail(1), fail(1), ok], broken: [fail(3), fail(3), fail(3), ok], once: [fail(137), ok] };
    const retry = (max: number, when: string[], exitCodes: number[] = []) => ({ max, when, exitCodes });
    const outcomes = await schedulePipeline(
      [
        job('flaky', 'build', { retry: retry(2, ['always']) }),
        job('broken', 'build', { retry: retry(2, ['script_failure']), allowFailure: true }),
        job('once', 'build', { retry: retry(2, [], [1]) }),
        job('after', 'test'),
      ],
      {
        stages: STAGES,
        concurrency: 1,
        runManual: new Set(),
        runJob: async (j, attempt) => {
          runs.push(`${j.name}#${attempt}`);
          return results[j.name]?.shift() ?? ok;
        },
      },
    );
    expect(runs).toEqual(['flaky#0', 'flaky#1', 'flaky#2', 'broken#0', 'broken#1', 'broken#2', 'once#0']);
    expect(outcomes.map((o) => [o.job.name, o.status, o.retries])).toEqual([
      ['flaky', 'success', 2],
      ['broken', 'failed', 2],
      // exit_codes without when: only those codes are retried (137 is not 1)
      ['once', 'failed', 0],
      ['after', 'skipped', 0],
    ]);
  });

  it('says why a job with needs was skipped when nothing failed: a manual need not named, a skipped need', async () => {
    const r = await schedule([
      job('approve', 'build', { when: 'manual', allowFailure: true }),
      job('release', 'deploy', { needs: [{ job: 'approve', optional: false }] }),
      job('notify', '.post', { needs: [{ job: 'release', optional: false }] }),
      // skipped because nothing failed, not because of its need
      job('rescue', '.post', { needs: [{ job: 'release', optional: false }], when: 'on_failure' }),
    ]);
    expect(r.outcomes.map((o) => [o.job.name, o.status, o.skipReason])).toEqual([
      ['approve', 'manual', undefined],
      ['release', 'skipped', 'needs the manual job "approve", which did not run (name it to run it)'],
      ['notify', 'skipped', 'needs "release", which was skipped'],
      ['rescue', 'skipped', undefined],
    ]);
  });

  it('retries nothing once stopped', async () => {
    const stop = new AbortController();
    let runs = 0;
    const [outcome] = await schedulePipeline([job('a', 'build', { retry: { max: 2, when: ['always'], exitCodes: [] } })], {
      stages: STAGES,
      concurrency: 1,
      runManual: new Set(),
      stop: stop.signal,
      runJob: async () => {
        runs++;
        stop.abort();
        return fail(1);
      },
    });
    expect(runs).toBe(1);
    expect(outcome).toMatchObject({ status: 'failed', retries: 0 });
  });

  describe('prewarm', () => {
    /** Runs the pipeline with a prewarmer; `events` says in order what was prepared, discarded, started. */
    async function prewarmed(
      jobs: SchedulableJob[],
      results: Record<string, JobResult> = {},
      opts: { concurrency?: number; stop?: AbortController; manual?: string[]; refuse?: string[] } = {},
    ) {
      const events: string[] = [];
      const warm = new Set<string>();
      let maxWarm = 0;
      const outcomes = await schedulePipeline(jobs, {
        stages: STAGES,
        concurrency: opts.concurrency ?? 1,
        runManual: new Set(opts.manual ?? []),
        stop: opts.stop?.signal,
        prewarm: {
          prepare: (j) => {
            events.push(`prepare ${j.name}`);
            if (opts.refuse?.includes(j.name)) return false;
            warm.add(j.name);
            maxWarm = Math.max(maxWarm, warm.size);
            return true;
          },
          discard: (j) => {
            events.push(`discard ${j.name}`);
            warm.delete(j.name);
          },
        },
        runJob: async (j) => {
          events.push(`start ${j.name}`);
          warm.delete(j.name);
          await new Promise((r) => setTimeout(r, 5));
          if (j.name === 'stopper') opts.stop?.abort();
          events.push(`end ${j.name}`);
          return results[j.name] ?? ok;
        },
      });
      return { status: Object.fromEntries(outcomes.map((o) => [o.job.name, o.status])), events, warm, maxWarm };
    }

    it('prepares the next job of a chain while the one before it runs, and every prepared job then starts', async () => {
      const r = await prewarmed([job('b', 'build'), job('t', 'test'), job('d', 'deploy')]);
      expect(r.events).toEqual(['start b', 'prepare t', 'end b', 'start t', 'prepare d', 'end t', 'start d', 'end d']);
      expect(r.warm.size).toBe(0);
    });

    it('discards, never starts, a prepared job whose needs fail', async () => {
      const r = await prewarmed([job('a', 'build'), job('b', 'test', { needs: [{ job: 'a', optional: false }] })], { a: fail(1) });
      expect(r.status).toEqual({ a: 'failed', b: 'skipped' });
      expect(r.events).toEqual(['start a', 'prepare b', 'end a', 'discard b']);
      expect(r.warm.size).toBe(0);
    });

    it('discards prepared jobs that are canceled once stopped', async () => {
      const stop = new AbortController();
      const r = await prewarmed([job('stopper', 'build'), job('t', 'test')], {}, { stop });
      expect(r.status).toEqual({ stopper: 'success', t: 'canceled' });
      expect(r.events).toEqual(['start stopper', 'prepare t', 'end stopper', 'discard t']);
    });

    it('prepares no on_failure job while what it waits for runs, nor a manual job not named', async () => {
      const r = await prewarmed([job('b', 'build'), job('cleanup', 'test', { when: 'on_failure' }), job('m', 'test', { when: 'manual' })], { b: fail(1) });
      expect(r.status).toEqual({ b: 'failed', cleanup: 'success', m: 'manual' });
      // cleanup runs only once b has failed: it was never prepared ahead (nothing known to be run).
      expect(r.events.filter((e) => e.startsWith('prepare'))).toEqual([]);
    });

    it('prepares at most `concurrency` jobs ahead, in the order they start', async () => {
      const jobs = [...Array.from({ length: 3 }, (_, i) => job(`b${i}`, 'build')), ...Array.from({ length: 4 }, (_, i) => job(`t${i}`, 'test'))];
      const r = await prewarmed(jobs, {}, { concurrency: 2 });
      expect(r.maxWarm).toBe(2);
      // b2 is next; t0 waits for b0 and b1 (running) and b2 (prepared): it is prepared too, and
      // that fills the two places.
      expect(r.events.slice(0, 5)).toEqual(['start b0', 'start b1', 'prepare b2', 'prepare t0', 'end b0']);
      // The other test jobs follow as places free up, in file order.
      expect(r.events.filter((e) => e.startsWith('prepare'))).toEqual(['prepare b2', 'prepare t0', 'prepare t1', 'prepare t2', 'prepare t3']);
      expect(r.events.filter((e) => e.startsWith('discard'))).toEqual([]);
      expect(Object.values(r.status).every((s) => s === 'success')).toBe(true);
    });

    it('prepares a chain two jobs ahead; when the running job fails, both are discarded and skipped', async () => {
      const chain = [job('a', 'build'), job('b', 'test'), job('c', 'deploy')];
      const ok2 = await prewarmed(chain, {}, { concurrency: 2 });
      expect(ok2.events.slice(0, 3)).toEqual(['start a', 'prepare b', 'prepare c']);
      expect(ok2.events.filter((e) => e.startsWith('discard'))).toEqual([]);
      const failed = await prewarmed(chain, { a: fail(1) }, { concurrency: 2 });
      expect(failed.status).toEqual({ a: 'failed', b: 'skipped', c: 'skipped' });
      expect(failed.events).toEqual(['start a', 'prepare b', 'prepare c', 'end a', 'discard b', 'discard c']);
    });

    it('offers a job once; one the prewarmer does not prepare takes no place and is never discarded', async () => {
      const r = await prewarmed([job('b', 'build'), job('svc', 'test'), job('t', 'test'), job('d', 'deploy')], { b: fail(1) }, { concurrency: 1, refuse: ['svc'] });
      expect(r.status).toEqual({ b: 'failed', svc: 'skipped', t: 'skipped', d: 'skipped' });
      expect(r.events).toEqual(['start b', 'prepare svc', 'prepare t', 'end b', 'discard t']);
    });
  });
});
