/**
 * Prometheus metrics of `berth run`, under gitlab-runner's metric names where it has one, so
 * existing dashboards keep working. Served on `listen_address` (loopback unless configured),
 * GET /metrics only; labels never carry a token (the runner label is the short token).
 * Node's process metrics (prom-client's defaults) are collected only once the metrics are
 * served: their event-loop-delay monitor wakes the process every 10 ms, which is most of an
 * idle daemon's CPU (bench/run-throughput: 0.85 % → 0.1 % on an empty queue).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { InputError } from '../shared/errors.js';

export class RunnerMetrics {
  readonly registry = new Registry();
  readonly jobsTotal = new Counter({ name: 'gitlab_runner_jobs_total', help: 'Jobs started', labelNames: ['runner'], registers: [this.registry] });
  readonly jobResults = new Counter({
    name: 'berth_job_results_total',
    help: 'Finished jobs by state and failure reason',
    labelNames: ['runner', 'state', 'failure_reason'],
    registers: [this.registry],
  });
  readonly failedJobs = new Counter({
    name: 'gitlab_runner_failed_jobs_total',
    help: 'Failed jobs by failure reason',
    labelNames: ['runner', 'failure_reason'],
    registers: [this.registry],
  });
  readonly jobDuration = new Histogram({
    name: 'gitlab_runner_job_duration_seconds',
    help: 'Job duration',
    labelNames: ['runner'],
    buckets: [1, 5, 10, 30, 60, 300, 600, 1800, 3600, 7200],
    registers: [this.registry],
  });
  readonly runningJobs = new Gauge({ name: 'gitlab_runner_jobs', help: 'Jobs running now', labelNames: ['runner', 'state'], registers: [this.registry] });
  readonly concurrent = new Gauge({ name: 'gitlab_runner_concurrent', help: 'The concurrent setting', registers: [this.registry] });
  readonly limit = new Gauge({ name: 'gitlab_runner_limit', help: 'The limit setting per runner', labelNames: ['runner'], registers: [this.registry] });
  readonly apiRequests = new Counter({
    name: 'gitlab_runner_api_request_statuses_total',
    help: 'GitLab API requests by endpoint and status',
    labelNames: ['runner', 'endpoint', 'status'],
    registers: [this.registry],
  });
  readonly apiErrors = new Counter({
    name: 'berth_api_request_errors_total',
    help: 'GitLab API requests that got no answer (network errors, timeouts)',
    labelNames: ['runner', 'endpoint'],
    registers: [this.registry],
  });

  private collectingDefaults = false;

  /** Serves GET /metrics on `host:port`; other methods get 405. */
  async serve(listenAddress: string): Promise<{ address: string; close(): Promise<void> }> {
    const { host, port } = parseListenAddress(listenAddress);
    if (!this.collectingDefaults) {
      collectDefaultMetrics({ register: this.registry });
      this.collectingDefaults = true;
    }
    const server: Server = createServer((req, res) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { Allow: 'GET' }).end();
        return;
      }
      if (!req.url?.startsWith('/metrics')) {
        res.writeHead(404).end();
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'Content-Type': this.registry.contentType }).end(text),
        () => res.writeHead(500).end(),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, resolve);
    });
    const addr = server.address() as AddressInfo;
    return {
      address: `${addr.address}:${addr.port}`,
      close: () => new Promise((resolve) => server.close(() => resolve())),
    };
  }
}

/** ":9252" and "9252" mean loopback (berth never listens on every interface unless told). */
export function parseListenAddress(text: string): { host: string; port: number } {
  const m = /^(?:\[?([^\]]*)\]?:)?(\d+)$/.exec(text.trim());
  if (!m) throw new InputError(`listen_address "${text}" is not host:port; use e.g. 127.0.0.1:9252 or :9252 (loopback)`, { key: 'listen_address' });
  return { host: m[1] || '127.0.0.1', port: Number(m[2]) };
}
