/** Collects warnings once each, and groups per-job notes into one warning per topic. */
export class WarningList {
  private readonly seen = new Set<string>();
  private readonly list: string[] = [];
  private readonly grouped = new Map<string, string[]>();

  add = (message: string): void => {
    if (this.seen.has(message)) return;
    this.seen.add(message);
    this.list.push(message);
  };

  /** One warning for `topic`, naming every job it applies to. */
  addForJob(topic: string, job: string): void {
    const jobs = this.grouped.get(topic) ?? [];
    if (!jobs.includes(job)) jobs.push(job);
    this.grouped.set(topic, jobs);
  }

  toArray(): string[] {
    const groupedLines = [...this.grouped].map(([topic, jobs]) => `${topic} (jobs: ${jobs.join(', ')})`);
    return [...this.list, ...groupedLines];
  }
}
