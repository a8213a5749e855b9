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

  it('binds a bare port to loopback', () => {
    expect(parseListenAddress(':9252')).toEqual({ host: '127.0.0.1', port: 9252 });
    expect(parseListenAddress('0.0.0.0:9252')).toEqual({ host: '0.0.0.0', port: 9252 });
    expect(() => parseListenAddress('nope')).toThrow('listen_address');
  });
});
