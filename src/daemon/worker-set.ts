/**
 * WorkerSet: the daemon's workers, one per `[[runners]]` entry (by token), reconciled with each
 * configuration reload: a runner still there gets its new settings (for jobs that start from
 * now on), a new one gets a worker, a removed one is stopped (no more requests) and retired:
 * its running jobs still finish, and shutdown still waits for them. A worker whose token was
 * rotated is renamed, not replaced.
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

  /**
   * The worker of token `from` now belongs to token `to` (a rotated runner token): the next
   * apply() updates it instead of retiring it and starting another, so its running jobs still
   * count against its `limit`. False when there is no such worker or `to` already has one.
   */
  rename(from: string, to: string): boolean {
    if (!this.active.has(from) || this.active.has(to)) return false;
    const entries = [...this.active].map(([token, w]): [string, W] => [token === from ? to : token, w]);
    this.active.clear();
    for (const [token, w] of entries) this.active.set(token, w);
    return true;
  }

  stopAll(): void {
    for (const w of this.active.values()) w.stop();
  }

  /** Resolves when every worker, current or retired, is idle. */
  async idle(): Promise<void> {
    await Promise.all([...this.active.values(), ...this.retired].map((w) => w.idle()));
  }
}
