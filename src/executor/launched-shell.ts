/**
 * A build container attached and started, its shell waiting for a stage script on stdin.
 *
 * The container's command only finds a shell and execs it (job/shell-detect.ts); the shell then
 * reads the script from stdin. So the container can be started before the script exists — while
 * the sources are fetched and copied in, or while the job before it runs — and the job's first
 * stage then only writes its script. Only for a container whose image runs no ENTRYPOINT of its
 * own: then starting it runs nothing of the image or of the job (DockerExecutor decides).
 *
 * Output written before the script (a shell that is not found says so) is held, bounded, and
 * replayed into the stage's log when the stage takes the shell.
 */
import type { Attachment, EngineClient } from '../engine/engine-client.js';

/** Bound on the output held before a stage takes the shell; what is beyond is counted, not kept. */
const MAX_HELD_BYTES = 64 * 1024;

export interface OutputSinks {
  stdout: (chunk: Buffer) => void;
  stderr: (chunk: Buffer) => void;
}

export class LaunchedShell {
  private held: { out: boolean; chunk: Buffer }[] = [];
  private heldBytes = 0;
  private dropped = 0;
  private sinks: OutputSinks | null = null;
  private readonly waitStop = new AbortController();

  /** The container's exit code once the engine reports it stopped. */
  private exitedPromise: Promise<number> = Promise.resolve(-1);

  private constructor(readonly attachment: Attachment) {
    attachment.stdout.on('data', (chunk: Buffer) => this.deliver(true, chunk));
    attachment.stderr.on('data', (chunk: Buffer) => this.deliver(false, chunk));
  }

  get exited(): Promise<number> {
    return this.exitedPromise;
  }

  /** Attaches (before the start, so that no output is missed), starts, and begins waiting for the stop. */
  static async launch(engine: EngineClient, containerId: string): Promise<LaunchedShell> {
    const shell = new LaunchedShell(await engine.attachContainer(containerId));
    try {
      await engine.startContainer(containerId);
    } catch (err) {
      shell.attachment.destroy();
      throw err;
    }
    shell.exitedPromise = engine.waitContainer(containerId, shell.waitStop.signal);
    shell.exitedPromise.catch(() => undefined);
    return shell;
  }

  /** From now on the output goes to `sinks`, after what was held. Returns how many bytes were dropped. */
  take(sinks: OutputSinks): number {
    this.sinks = sinks;
    for (const h of this.held) (h.out ? sinks.stdout : sinks.stderr)(h.chunk);
    this.held = [];
    return this.dropped;
  }

  /** For a shell no stage took (the job ended before its script): closes the connection and the wait. */
  dispose(): void {
    this.waitStop.abort();
    this.attachment.destroy();
  }

  private deliver(out: boolean, chunk: Buffer): void {
    if (this.sinks) {
      (out ? this.sinks.stdout : this.sinks.stderr)(chunk);
      return;
    }
    if (this.heldBytes + chunk.length > MAX_HELD_BYTES) {
      this.dropped += chunk.length;
      return;
    }
    this.heldBytes += chunk.length;
    this.held.push({ out, chunk });
  }
}
