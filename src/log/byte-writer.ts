/**
 * ByteWriter: the link of the job log chain. Writes are synchronous and never throw for I/O
 * reasons; a sink that does I/O buffers and reports errors on its own channel.
 * `end()` flushes anything a filter held back (e.g. a masker waiting for a possible secret).
 */
export interface ByteWriter {
  write(chunk: Buffer): void;
  end(): void;
}

/** Collects everything written, for tests and for the exec summary. */
export class MemoryByteWriter implements ByteWriter {
  private readonly chunks: Buffer[] = [];
  ended = false;

  write(chunk: Buffer): void {
    this.chunks.push(Buffer.from(chunk));
  }
  end(): void {
    this.ended = true;
  }
  get buffer(): Buffer {
    return Buffer.concat(this.chunks);
  }
  get text(): string {
    return this.buffer.toString('utf8');
  }
}

/** Writes every chunk to several writers. */
export class TeeByteWriter implements ByteWriter {
  constructor(private readonly targets: ByteWriter[]) {}
  write(chunk: Buffer): void {
    for (const t of this.targets) t.write(chunk);
  }
  end(): void {
    for (const t of this.targets) t.end();
  }
}

/**
 * Lets several upstream writers share one downstream: ends the downstream only when every
 * upstream has ended.
 */
export class SharedByteWriter {
  private open = 0;
  constructor(private readonly downstream: ByteWriter) {}

  /** A new upstream handle. */
  handle(): ByteWriter {
    this.open++;
    let ended = false;
    return {
      write: (chunk) => {
        if (!ended) this.downstream.write(chunk);
      },
      end: () => {
        if (ended) return;
        ended = true;
        if (--this.open === 0) this.downstream.end();
      },
    };
  }
}
