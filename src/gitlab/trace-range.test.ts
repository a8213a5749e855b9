/**
 * The trace's Range header from servers that are not GitLab's own code: TraceUploader +
 * GitLabClient against a small node:http server on loopback that stores the trace as GitLab does
 * (a PATCH must start where the stored trace ends, else 416) but writes its Range differently.
 * gitlab-runner (network/gitlab.go createPatchTraceResult, network/patch_response.go) takes a 202
 * as the whole patch stored whatever its Range says, and on a 416 goes on from the Range's end,
 * or from 0 when there is no Range.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ScaledClock } from '../../test/support/gitlab-test-server-clock.js';
import { GitLabClient } from './gitlab-client.js';
import { TraceUploader } from './trace-uploader.js';

interface FakeTraceServer {
  url: string;
  trace: () => Buffer;
  patches: { start: number; status: number }[];
  close: () => Promise<void>;
}

/** `ranges(size)` → the Range header of a 202 and of a 416 (undefined: none); `loseTraceAfter` empties the stored trace once after that many stored patches. */
async function fakeTraceServer(opts: { range202: (size: number) => string; range416: (size: number) => string | undefined; loseTraceAfter?: number }): Promise<FakeTraceServer> {
  let stored = Buffer.alloc(0);
  let storedPatches = 0;
  const patches: { start: number; status: number }[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'PUT') {
        res.writeHead(200).end();
        return;
      }
      const start = Number(/^(\d+)-/.exec(String(req.headers['content-range']))?.[1] ?? -1);
      if (start !== stored.length) {
        patches.push({ start, status: 416 });
        const range = opts.range416(stored.length);
        res.writeHead(416, range === undefined ? {} : { Range: range }).end();
        return;
      }
      stored = Buffer.concat([stored, ...chunks]);
      patches.push({ start, status: 202 });
      res.writeHead(202, { Range: opts.range202(stored.length), 'Job-Status': 'running' }).end();
      if (++storedPatches === opts.loseTraceAfter) stored = Buffer.alloc(0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    trace: () => stored,
    patches,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function upload(server: FakeTraceServer, parts: string[]): Promise<string> {
  const clock = new ScaledClock(1000);
  const client = new GitLabClient({ clock, random: () => 0 });
  const up = new TraceUploader({ api: client, job: { url: server.url, id: 7, token: 'glcbt-64_secretjobtoken' }, clock, finalUpdateRetryLimit: 3, maxPatchBytes: 10 });
  cleanups.push(() => client.close(), () => up.close());
  // Patches of at most 10 bytes: every part takes one or two patches.
  up.start();
  for (const p of parts) {
    up.write(Buffer.from(p));
    await clock.sleep(4000);
  }
  // The incremental updates alone bring the whole trace, and berth has their answers (finish()
  // would cut a PATCH in flight, and the repeated patch meets a 416 that, with this server's
  // inclusive Range, can never resolve).
  const total = Buffer.byteLength(parts.join(''));
  for (let waited = 0; up.acknowledged < total && waited < 10_000; waited += 10) await new Promise((r) => setTimeout(r, 10));
  const out = await up.finish({ state: 'success', failureReason: null, exitCode: 0 });
  return out.status;
}

describe('trace Range from other servers', () => {
  it('a 202 whose Range names the last byte (0-<size-1>) is the whole patch stored: the next patch starts after it', async () => {
    const server = await fakeTraceServer({ range202: (size) => `0-${size - 1}`, range416: (size) => `0-${size - 1}` });
    cleanups.push(() => server.close());
    const parts = ['first part\n', 'second part\n', 'third\n'];
    const status = await upload(server, parts);
    expect(server.trace().toString()).toBe(parts.join(''));
    expect(server.patches.map((p) => p.status)).not.toContain(416);
    expect(status).toBe('accepted');
  });

  it('a 416 without Range sends the trace again from offset 0', async () => {
    // The server loses what it stored after the first patch and then answers 416 with no Range.
    const server = await fakeTraceServer({ range202: (size) => `0-${size}`, range416: () => undefined, loseTraceAfter: 1 });
    cleanups.push(() => server.close());
    const parts = ['one\n', 'two\n', 'three\n'];
    const status = await upload(server, parts);
    expect(server.trace().toString()).toBe(parts.join(''));
    const mismatch = server.patches.findIndex((p) => p.status === 416);
    expect(mismatch).toBeGreaterThan(0);
    // The first patch stored after it starts at 0 (a patch in flight when finish() began may meet the same 416 first).
    expect(server.patches.slice(mismatch + 1).find((p) => p.status === 202)).toEqual({ start: 0, status: 202 });
    expect(status).toBe('accepted');
  });
});
