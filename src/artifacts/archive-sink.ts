/**
 * ArchiveSink: where an archive writer puts its bytes. ArchiveFileWriter writes a local file
 * (removed when the archive fails); ArchiveStreamWriter writes into a stream another part owns
 * (the body of an upload: gitlab-runner streams the artifacts zip into the request,
 * network/gitlab.go createArtifactsContentProvider).
 */
export interface ArchiveSink {
  /** What the archive is called in messages: a file path, or a description of the stream. */
  readonly name: string;
  /** Writes `chunk`, waiting when the sink's buffer is full; the sink may keep `chunk`. */
  write(chunk: Uint8Array): Promise<void>;
  /** Writes `chunk`; once this resolves the caller may reuse its memory. */
  writeOwned(chunk: Uint8Array): Promise<void>;
  /** All bytes written and flushed; returns their count. */
  finish(): Promise<number>;
  /** Gives up: a file is closed and removed; a stream is left to its owner. */
  discard(): Promise<void>;
}
