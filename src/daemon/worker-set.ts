/**
 * WorkerSet: the daemon's workers, one per `[[runners]]` entry (by token), reconciled with each
 * configuration reload: a runner still there gets its new settings (for jobs that start from
 * now on), a new one gets a worker, a removed one is stopped (no more requests) and retired:
 * its running jobs still finish, and shutdown still waits for them.
 */
export interface ReconciledWorker<C> {
  update(config: C): void;
  /** No more job requests. */
  stop(): void;
  /** Resolves when no request is in flight and no job runs. */
  idle(): Promise<void>;
}

export class WorkerSet<C extends { token: string }, W extends ReconciledWorker<C>> {
  private readonly active = new Map<string, W>();
  private readonly retired = new Set<W>();

  constructor(private readonly create: (config: C) => W) {}

  /** The workers of the current configuration, in its order. */
  get list(): W[] {
    return [...this.active.values()];
  }

  /** Reconciles the workers with these runner entries. */
  apply(runners: readonly C[]): void {
    const seen = new Set<string>();
    for (const r of runners) {
      seen.add(r.token);
      const existing = this.active.get(r.token);
      if (existing) existing.update(r);
      else this.active.set(r.token, this.create(r));
    }
    for (const [token, w] of this.active) {
      if (seen.has(token)) continue;
      w.stop();
      this.active.delete(token);
      this.retired.add(w);
    }
  }

  stopAll(): void {
    for (const w of this.active.values()) w.stop();
  }

  /** Resolves when every worker, current or retired, is idle. */
  async idle(): Promise<void> {
    await Promise.all([...this.active.values(), ...this.retired].map((w) => w.idle()));
  }
}
