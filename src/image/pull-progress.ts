/**
 * Turns the engine's pull progress events into compact job log lines: one line each time a
 * layer changes state (`<id>: Pulling fs layer`, `Downloading`, `Download complete`,
 * `Pull complete`, ...), never one per progress tick, plus the summary lines (`Digest: ...`,
 * `Status: ...`).
 */
/** The fields of an engine progress event this needs (structurally the engine client's type). */
export interface ProgressEvent {
  id?: string;
  status?: string;
}

export class PullProgressLog {
  private readonly lastStatus = new Map<string, string>();

  constructor(private readonly println: (line: string) => void) {}

  /** Feed every event; prints only state changes. */
  readonly onProgress = (event: ProgressEvent): void => {
    const status = event.status?.trim();
    if (!status) return;
    if (!event.id) {
      this.println(status);
      return;
    }
    if (this.lastStatus.get(event.id) === status) return;
    this.lastStatus.set(event.id, status);
    this.println(`${event.id}: ${status}`);
  };
}
