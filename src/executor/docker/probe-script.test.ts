/**
 * The probe script, run for real by busybox sh and the host's sh with a PATH that holds only
 * the tools of one kind of image (busybox applets, bash, curl, wget, none), against real TCP
 * servers on 127.0.0.1.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseProbeOutput, PROBE_EXIT_NO_TOOL, PROBE_SCRIPT, probeCommand } from './probe-script.js';

const BUSYBOX = '/bin/busybox';
const SH = '/bin/sh';
const BASE = ['sh', 'sleep', 'date', 'timeout', 'echo'];

function which(name: string): string | null {
  for (const dir of ['/usr/bin', '/bin', '/usr/local/bin']) if (existsSync(join(dir, name))) return join(dir, name);
  return null;
}

const root = mkdtempSync(join(tmpdir(), 'berth-probe-'));
/** A folder for PATH with the busybox base applets plus `extra` (name → target binary). */
function toolbox(name: string, extra: Record<string, string>): string {
  const dir = join(root, name);
  mkdirSync(dir);
  for (const applet of BASE) symlinkSync(BUSYBOX, join(dir, applet));
  for (const [tool, target] of Object.entries(extra)) symlinkSync(target, join(dir, tool));
  return dir;
}

interface Run {
  code: number;
  out: string;
  ms: number;
}

/**
 * Runs the script as the container would (`sh -c SCRIPT ...`). The shell is the host's /bin/sh
 * (dash on Debian) unless told: busybox sh finds its own applets without PATH, so only another
 * shell can show an image without nc.
 */
function runProbe(path: string, host: string, limit: number, ports: number[], shell = SH): Promise<Run> {
  const { entrypoint, cmd } = probeCommand(host, ports, limit);
  const started = Date.now();
  const argv = shell === BUSYBOX ? [...entrypoint, ...cmd] : [...entrypoint.slice(1), ...cmd];
  return new Promise((resolve) => {
    execFile(shell, argv, { env: { PATH: path }, timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, out: stdout + stderr, ms: Date.now() - started });
    });
  });
}

function listen(onConnection: (s: import('node:net').Socket) => void = (s) => s.end('HTTP/1.0 200 OK\r\n\r\nok')): Promise<{ server: Server; port: number }> {
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    onConnection(socket);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port })));
}

async function closedPort(): Promise<number> {
  const { server, port } = await listen();
  await new Promise((r) => server.close(r));
  return port;
}

const haveBusybox = existsSync(BUSYBOX) && existsSync(SH);
const bash = which('bash');
const curl = which('curl');

describe.skipIf(!haveBusybox)('probe script', () => {
  let http: { server: Server; port: number };
  let raw: { server: Server; port: number };
  let closed: number;
  const dirs: Record<string, string> = {};

  beforeAll(async () => {
    http = await listen();
    // Not HTTP: accepts and closes at once (a database that hangs up on garbage).
    raw = await listen((s) => s.destroy());
    closed = await closedPort();
    const mk = (n: string, e: Record<string, string>): void => {
      dirs[n] = toolbox(n, e);
    };
    mk('busybox-nc', { nc: BUSYBOX });
    mk('busybox-wget', { wget: BUSYBOX });
    mk('none', {});
    if (bash) mk('bash', { bash });
    if (curl) mk('curl', { curl });
  });

  afterAll(() => {
    http.server.close();
    raw.server.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("busybox's small nc (no -z) dials with -e true: open port → exit 0 naming it; closed port → the refusal, exit 1 at the limit", async () => {
    const open = await runProbe(dirs['busybox-nc']!, '127.0.0.1', 5, [closed, http.port], BUSYBOX);
    expect(open.code).toBe(0);
    expect(open.out).toContain(`berth-probe: open ${http.port} (nc-e)`);
    const shut = await runProbe(dirs['busybox-nc']!, '127.0.0.1', 1, [closed], BUSYBOX);
    expect(shut.code).toBe(1);
    expect(shut.out).toContain(`berth-probe: dial tcp 127.0.0.1:${closed}: Connection refused`);
    expect(shut.ms).toBeLessThan(5_000);
  });

  it.skipIf(!bash)("bash's /dev/tcp when there is no nc", async () => {
    const open = await runProbe(dirs.bash!, '127.0.0.1', 5, [http.port]);
    expect(open).toMatchObject({ code: 0 });
    expect(open.out).toContain(`berth-probe: open ${http.port} (bash)`);
    const shut = await runProbe(dirs.bash!, '127.0.0.1', 1, [closed]);
    expect(shut.code).toBe(1);
    expect(shut.out).toContain(`berth-probe: dial tcp 127.0.0.1:${closed}: Connection refused`);
  });

  it.skipIf(!curl)('curl: connected counts, whatever the server answers; refused does not', async () => {
    expect((await runProbe(dirs.curl!, '127.0.0.1', 5, [raw.port])).out).toContain(`berth-probe: open ${raw.port} (curl)`);
    const shut = await runProbe(dirs.curl!, '127.0.0.1', 1, [closed]);
    expect(shut.code).toBe(1);
    expect(shut.out).toMatch(new RegExp(`berth-probe: dial tcp 127\\.0\\.0\\.1:${closed}: .*(refused|Couldn't connect)`, 'i'));
  });

  it('busybox wget: an HTTP answer and a server that hangs up both count as open; a refusal does not', async () => {
    expect((await runProbe(dirs['busybox-wget']!, '127.0.0.1', 5, [http.port])).out).toContain(`berth-probe: open ${http.port} (wget)`);
    expect((await runProbe(dirs['busybox-wget']!, '127.0.0.1', 5, [raw.port])).out).toContain(`berth-probe: open ${raw.port} (wget)`);
    const shut = await runProbe(dirs['busybox-wget']!, '127.0.0.1', 1, [closed]);
    expect(shut.code).toBe(1);
    expect(shut.out).toContain(`berth-probe: dial tcp 127.0.0.1:${closed}: Connection refused`);
  });

  it('waits for a port that starts listening later', async () => {
    const port = await closedPort();
    const late = new Promise<Server>((resolve) => setTimeout(() => {
      const s = createServer((c) => {
        c.on('error', () => undefined);
        c.destroy();
      });
      s.listen(port, '127.0.0.1', () => resolve(s));
    }, 700));
    const res = await runProbe(dirs['busybox-nc']!, '127.0.0.1', 10, [port]);
    (await late).close();
    expect(res.code).toBe(0);
    expect(res.out).toContain(`berth-probe: dial tcp 127.0.0.1:${port}: Connection refused`);
    expect(res.out).toContain(`berth-probe: open ${port} (nc-e)`);
    // The refusal is printed once, not every round.
    expect(res.out.match(/Connection refused/g)?.length).toBe(1);
  });

  it('an image with none of the tools: exit 3, "no tool", at once', async () => {
    const res = await runProbe(dirs.none!, '127.0.0.1', 10, [http.port]);
    expect(res.code).toBe(PROBE_EXIT_NO_TOOL);
    expect(res.out.trim()).toBe('berth-probe: no tool');
    expect(res.ms).toBeLessThan(3_000);
  });

  it("runs in the host's /bin/sh (dash on Debian) as well as in busybox sh", async () => {
    const res = await runProbe(dirs['busybox-nc']!, '127.0.0.1', 5, [http.port]);
    expect(res.code).toBe(0);
    expect(res.out).toContain(`berth-probe: open ${http.port} (nc-e)`);
  });

  it('the command passes host, limit and ports as arguments, never into the script text', () => {
    const { entrypoint, cmd } = probeCommand('10.0.0.5', [5432, 80], 29.2);
    expect(entrypoint).toEqual(['sh', '-c']);
    expect(cmd).toEqual([PROBE_SCRIPT, 'berth-probe', '10.0.0.5', '30', '5432', '80']);
  });
});

describe('parseProbeOutput', () => {
  it('reads docker logs with timestamps: the open port, the last dial error, no tool', () => {
    const logs =
      '2026-12-03T07:00:00.000000001Z berth-probe: dial tcp 10.1.0.2:80: Connection refused\n' +
      '2026-12-03T07:00:01.000000001Z berth-probe: dial tcp 10.1.0.2:80: Host is unreachable\n';
    expect(parseProbeOutput(logs)).toEqual({ openPort: null, lastError: 'dial tcp 10.1.0.2:80: Host is unreachable', noTool: false });
    expect(parseProbeOutput(`${logs}2026-12-03T07:00:02Z berth-probe: open 80 (nc-e)\n`).openPort).toBe(80);
    expect(parseProbeOutput('berth-probe: no tool\n')).toEqual({ openPort: null, lastError: null, noTool: true });
    expect(parseProbeOutput('sh: nc: not found\n')).toEqual({ openPort: null, lastError: null, noTool: false });
  });
});
