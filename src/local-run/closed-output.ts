/**
 * A reader that goes away (`berth exec | head`, a pager that quits) closes berth's stdout: the
 * next write fails with EPIPE, which Node raises as an unhandled 'error' event, ending berth at
 * once with the running jobs' containers, networks and volumes left behind. Instead, the first
 * EPIPE on stdout or stderr stops the jobs as one Ctrl-C does (after_script still runs, and
 * everything is removed); what would have been printed is dropped, the job log files keep it all.
 * Other stream errors stay what they were: unhandled.
 */
export function stopWhenOutputCloses(streams: readonly NodeJS.EventEmitter[], stop: () => void): () => void {
  let closed = false;
  const onError = (err: unknown): void => {
    if (!isBrokenPipe(err)) throw err;
    if (closed) return;
    closed = true;
    stop();
  };
  for (const s of streams) s.on('error', onError);
  // Once a stream broke, its later writes fail too: the handler stays for them.
  return () => {
    if (!closed) for (const s of streams) s.off('error', onError);
  };
}

function isBrokenPipe(err: unknown): boolean {
  return typeof err === 'object' && err !== null && 'code' in err && (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED');
}
