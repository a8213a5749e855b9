/**
 * ShutdownSignals: the daemon's signal state machine, as gitlab-runner:
 *
 *   running  --SIGQUIT-->          draining  (stop asking for jobs; running jobs finish)
 *   running  --SIGTERM/SIGINT-->   aborting  (stop asking for jobs; abort running jobs)
 *   draining --SIGTERM/SIGINT-->   aborting
 *   aborting --SIGTERM/SIGINT-->   forced    (exit at once; the next start sweeps what is left)
 *   any      --SIGHUP-->           reload the configuration
 *
 * A SIGQUIT once draining or aborting changes nothing. The signal source is injected
 * (process, or an EventEmitter in tests), so the machine is testable without real signals.
 */
import type { RunnerLog } from './runner-log.js';

export type DaemonMode = 'running' | 'draining' | 'aborting';
export type TerminatingSignal = 'SIGTERM' | 'SIGINT';

/** What emits the signals: `process`, or an EventEmitter in tests. */
export interface SignalSource {
  on(event: string, listener: () => void): unknown;
  off(event: string, listener: () => void): unknown;
}

export interface ShutdownActions {
  /** SIGQUIT: ask for no more jobs. */
  drain(): void;
  /** The first SIGTERM/SIGINT: ask for no more jobs and abort the running ones. */
  abort(signal: TerminatingSignal): void;
  /** SIGHUP: reload the configuration. */
  reload(): void;
}

const HANDLED = ['SIGQUIT', 'SIGTERM', 'SIGINT', 'SIGHUP'] as const;

export class ShutdownSignals {
  private current: DaemonMode = 'running';
  private force!: () => void;
  /** Resolves on a second SIGTERM/SIGINT: stop waiting for anything. */
  readonly forced: Promise<void> = new Promise((resolve) => (this.force = resolve));

  constructor(
    private readonly actions: ShutdownActions,
    private readonly log: Pick<RunnerLog, 'info' | 'warn'>,
  ) {}

  get mode(): DaemonMode {
    return this.current;
  }

  /** One signal through the machine. */
  handle(signal: string): void {
    switch (signal) {
      case 'SIGQUIT':
        if (this.current !== 'running') return;
        this.current = 'draining';
        this.log.info('SIGQUIT received: no new jobs; exiting once running jobs finish');
        this.actions.drain();
        return;
      case 'SIGTERM':
      case 'SIGINT':
        if (this.current === 'aborting') {
          this.log.warn(`${signal} received again: exiting now; the next start removes what is left`);
          this.force();
          return;
        }
        this.current = 'aborting';
        this.log.warn(`${signal} received: aborting running jobs (press again to exit at once)`);
        this.actions.abort(signal);
        return;
      case 'SIGHUP':
        this.actions.reload();
        return;
    }
  }

  /** Subscribes to the source's signals; returns the unsubscribe. */
  listen(source: SignalSource): () => void {
    const listeners = HANDLED.map((signal) => [signal, () => this.handle(signal)] as const);
    for (const [signal, fn] of listeners) source.on(signal, fn);
    return () => {
      for (const [signal, fn] of listeners) source.off(signal, fn);
    };
  }
}
