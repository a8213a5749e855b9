import { describe, expect, it } from 'vitest';
import { parseListenAddress, RunnerMetrics } from './runner-metrics.js';

describe('runner metrics', () => {
  it('serves GET /metrics on loopback and refuses other methods', async () => {
    const m = new RunnerMetrics();
    m.jobsTotal.inc({ runner: 'abc123456' });
    m.failedJobs.inc({ runner: 'abc123456', failure_reason: 'script_failure' });
    const server = await m.serve('127.0.0.1:0');
    try {
      expect(server.address.startsWith('127.0.0.1:')).toBe(true);
      const res = await fetch(`http://${server.address}/metrics`);
      const body = await res.text();
      expect(res.status).toBe(200);
      expect(body).toContain('gitlab_runner_jobs_total{runner="abc123456"} 1');
      expect(body).toContain('gitlab_runner_failed_jobs_total{runner="abc123456",failure_reason="script_failure"} 1');
      expect((await fetch(`http://${server.address}/metrics`, { method: 'POST' })).status).toBe(405);
    } finally {
      await server.close();
    }
  });

  it('collects the process metrics only once served (their event-loop monitor wakes the process every 10 ms)', async () => {
    const m = new RunnerMetrics();
    expect(await m.registry.metrics()).not.toContain('nodejs_eventloop_lag_seconds');
    const first = await m.serve('127.0.0.1:0');
    const second = await m.serve('127.0.0.1:0');
    try {
      const body = await (await fetch(`http://${second.address}/metrics`)).text();
      expect(body).toContain('nodejs_eventloop_lag_seconds');
      expect(body).toContain('process_cpu_user_seconds_total');
    } finally {
      await first.close();
      await second.close();
    }
  });

  it('binds a bare port to loopback', () => {
    expect(parseListenAddress(':9252')).toEqual({ host: '127.0.0.1', port: 9252 });
    expect(parseListenAddress('0.0.0.0:9252')).toEqual({ host: '0.0.0.0', port: 9252 });
    expect(() => parseListenAddress('nope')).toThrow(expect.objectContaining({ code: 'input_error', key: 'listen_address' }));
  });
});
