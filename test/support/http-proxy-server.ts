/**
 * HttpProxyTestServer: a forward HTTP proxy on 127.0.0.1, as a corporate proxy behaves: `CONNECT
 * host:port` opens a tunnel (for https targets), a request in absolute form (`GET
 * http://host:port/path`) is forwarded (for http targets). It resolves host names from its own
 * table only (`hosts`: `gitlab.test` → `127.0.0.1`), so a client reaches those names through the
 * proxy or not at all; an unknown name is 502. With `credentials`, a request without the right
 * `Proxy-Authorization: Basic` gets 407. Every request is recorded (method, target, whether it
 * was authorised).
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

export interface ProxiedRequest {
  method: string;
  /** `host:port` of a CONNECT, the absolute URL of a forwarded request. */
  target: string;
  authorised: boolean;
}

export interface HttpProxyTestOptions {
  hosts: Record<string, string>;
  credentials?: { user: string; password: string };
}

export class HttpProxyTestServer {
  readonly requests: ProxiedRequest[] = [];
  private readonly sockets = new Set<Duplex>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(opts: HttpProxyTestOptions): Promise<HttpProxyTestServer> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const proxy = new HttpProxyTestServer(server, `http://127.0.0.1:${port}`);
    server.on('connection', (s: Socket) => proxy.track(s));
    server.on('request', (req: IncomingMessage, res: ServerResponse) => proxy.forward(req, res, opts));
    server.on('connect', (req: IncomingMessage, client: Duplex, head: Buffer) => proxy.tunnel(req, client, head, opts));
    return proxy;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private track(s: Duplex): void {
    this.sockets.add(s);
    s.once('close', () => this.sockets.delete(s));
  }

  private authorised(req: IncomingMessage, opts: HttpProxyTestOptions): boolean {
    if (!opts.credentials) return true;
    const expected = `Basic ${Buffer.from(`${opts.credentials.user}:${opts.credentials.password}`).toString('base64')}`;
    return req.headers['proxy-authorization'] === expected;
  }

  private forward(req: IncomingMessage, res: ServerResponse, opts: HttpProxyTestOptions): void {
    const ok = this.authorised(req, opts);
    this.requests.push({ method: req.method ?? '', target: req.url ?? '', authorised: ok });
    if (!ok) {
      res.writeHead(407, { 'Proxy-Authenticate': 'Basic realm="test proxy"' }).end();
      return;
    }
    let target: URL;
    try {
      target = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end('absolute URL expected');
      return;
    }
    const address = opts.hosts[target.hostname];
    if (!address) {
      res.writeHead(502).end(`unknown host ${target.hostname}`);
      return;
    }
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const out = request({ host: address, port: Number(target.port || 80), method: req.method, path: `${target.pathname}${target.search}`, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage ?? '', answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => res.destroy());
    req.pipe(out);
  }

  private tunnel(req: IncomingMessage, client: Duplex, head: Buffer, opts: HttpProxyTestOptions): void {
    this.track(client);
    const ok = this.authorised(req, opts);
    this.requests.push({ method: 'CONNECT', target: req.url ?? '', authorised: ok });
    if (!ok) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test proxy"\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const m = /^([^:]+):(\d+)$/.exec(req.url ?? '');
    const address = m ? opts.hosts[m[1]!] : undefined;
    if (!m || !address) {
      client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const upstream = connect(Number(m[2]), address, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    this.track(upstream);
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  }
}
