/**
 * DockerodeEngine.waitContainer when the connection to the engine is lost mid-wait: the engine
 * has answered the wait's headers, docker-modem would wait for the body for ever. The engine is
 * reached through a TCP proxy in this process (tcp://127.0.0.1:<port> → the local socket) that
 * the test cuts or closes.
 */
import { randomBytes } from 'node:crypto';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { DockerodeEngine } from './dockerode-engine.js';
import { EngineError } from './engine-error.js';

interface Proxy {
  endpoint: string;
  /** Destroys every open connection; new ones are still accepted. */
  cut(): void;
  /** Stops listening and destroys every open connection. */
  close(): Promise<void>;
}

async function startProxy(): Promise<Proxy> {
  const sockets = new Set<Socket>();
  const server: Server = createServer({ allowHalfOpen: true }, (client) => {
    const upstream = connect({ path: '/var/run/docker.sock', allowHalfOpen: true });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const cut = (): void => {
    for (const s of sockets) s.destroy();
  };
  return {
    endpoint: `tcp://127.0.0.1:${port}`,
    cut,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        cut();
      }),
  };
}

describe('waitContainer when the connection is lost', () => {
  const label = `berth.test.wait-container=${randomBytes(4).toString('hex')}`;
  const local = new DockerodeEngine({ host: 'unix:///var/run/docker.sock' });
  const proxies: Proxy[] = [];

  afterEach(async () => {
    for (const p of proxies.splice(0)) await p.close();
    for (const c of await local.listContainers([label])) await local.removeContainer(c.id, { force: true });
  });

  const startContainer = async (script: string): Promise<string> => {
    const [k, v] = label.split('=') as [string, string];
    const id = await local.createContainer({ name: `berth-wait-test-${randomBytes(4).toString('hex')}`, image: 'berth-test/busybox:latest', cmd: ['sh', '-c', script], labels: { [k]: v } });
    await local.startContainer(id);
    return id;
  };

  it('a cut connection: the watchdog finds the container stopped and returns its exit code', async () => {
    const proxy = await startProxy();
    proxies.push(proxy);
    const engine = new DockerodeEngine({ host: proxy.endpoint, tlsVerify: false, tlsCertPath: '' }, { waitCheckMs: 300 });
    const id = await startContainer('sleep 2; exit 7');
    const wait = engine.waitContainer(id);
    await new Promise((r) => setTimeout(r, 500));
    proxy.cut();
    await expect(wait).resolves.toBe(7);
  });

  it('an engine that no longer answers: the wait fails with an error naming the endpoint', async () => {
    const proxy = await startProxy();
    proxies.push(proxy);
    const engine = new DockerodeEngine({ host: proxy.endpoint, tlsVerify: false, tlsCertPath: '' }, { waitCheckMs: 300 });
    const id = await startContainer('sleep 60');
    const wait = engine.waitContainer(id);
    wait.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 500));
    await proxy.close();
    const err = await wait.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).unreachable).toBe(true);
    expect((err as EngineError).message).toMatch(new RegExp(`^Cannot reach the Docker engine at ${proxy.endpoint} \\(ECONNREFUSED\\)`));
  });

  it('an abort still ends the wait (and its watchdog)', async () => {
    const engine = new DockerodeEngine({ host: 'unix:///var/run/docker.sock' }, { waitCheckMs: 200 });
    const id = await startContainer('sleep 60');
    const ac = new AbortController();
    const wait = engine.waitContainer(id, ac.signal);
    wait.catch(() => undefined);
    setTimeout(() => ac.abort(new Error('stop waiting')), 300);
    await expect(wait).rejects.toThrow('stop waiting');
  });
});
