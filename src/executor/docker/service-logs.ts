/**
 * CI_DEBUG_SERVICES: every service's output in the job log while the job runs, as gitlab-runner
 * streams it (executors/docker/services.go captureContainersLogs; helpers/service
 * InlineServiceLogWriter): from the moment the services are started, each piece the engine
 * sends (with its timestamp) becomes lines `\e[0;37m[service:<aliases joined by ->] <text>\e[0;m`
 * on a stream of its own (gitlab-runner's service stream, 15). Unlike gitlab-runner's older
 * releases, the lines go through the job log's masking like any other output. The streams stop
 * when the job's containers are removed (`stop`), so a service's shutdown never shows.
 */
import type { EngineClient } from '../../engine/engine-client.js';
import type { JobLog } from '../../log/job-log.js';
import type { ByteWriter } from '../../log/byte-writer.js';
import { errorMessage } from '../../shared/errors.js';

/** gitlab-runner's buildlogger.StreamStartingServiceLevel. */
const SERVICE_STREAM = { id: 15, type: 'O' } as const;
const GREY = '\x1b[0;37m';
const RESET = '\x1b[0;m';

export interface LoggedService {
  containerId: string;
  /** Its name for messages (the image as written). */
  display: string;
  aliases: readonly string[];
}

export class ServiceLogs {
  private readonly stopper = new AbortController();
  private readonly following: Promise<void>[] = [];

  constructor(
    private readonly engine: EngineClient,
    private readonly log: JobLog,
  ) {}

  /** Starts following each service's output into the job log. */
  follow(services: readonly LoggedService[]): void {
    for (const service of services) {
      const out = this.log.openStream(SERVICE_STREAM);
      const write = inlineServiceLines(service.aliases.join('-'), out);
      this.following.push(
        this.engine
          .followContainerLogs(service.containerId, write, this.stopper.signal)
          .catch((err: unknown) => {
            if (!this.stopper.signal.aborted) this.log.warning(`failed to open log stream for container ${service.display}: ${errorMessage(err)}`);
          })
          .finally(() => out.end()),
      );
    }
  }

  /** Stops every stream and waits until each has ended in the job log. */
  async stop(): Promise<void> {
    this.stopper.abort();
    await Promise.all(this.following);
  }
}

/**
 * InlineServiceLogWriter: each piece split at its newlines, every part (a piece without a final
 * newline too) written as a line of its own with the prefix and the reset.
 */
export function inlineServiceLines(name: string, out: ByteWriter): (piece: Buffer) => void {
  const prefix = `${GREY}[service:${name}] `;
  return (piece) => {
    const text = piece.toString('utf8');
    if (text === '') return;
    const parts = text.split('\n');
    if (text.endsWith('\n')) parts.pop();
    out.write(Buffer.from(parts.map((p) => `${prefix}${p}${RESET}\n`).join(''), 'utf8'));
  };
}
