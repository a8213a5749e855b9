/**
 * A TCP proxy that a test starts and kills: a second endpoint for an engine, so that "the engine
 * goes away" or "is unreachable" can be played without stopping the engine other tests share.
 * It runs in a network namespace (nsenter --net), so it can listen on the engine's own address
 * (the one its TLS certificate names) at another port: tcp://<addr>:<port> → <addr>:<target>.
 * Killing it (SIGKILL) drops every connection through it at once.
 */
import { type ChildProcess, spawn } from 'node:child_process';

export interface NetnsTcpProxy {
  /** tcp://<addr>:<port> */
  endpoint: string;
  port: number;
  pid: number;
  /** SIGKILL: open connections are cut, new ones refused. */
  kill(): Promise<void>;
}

const SCRIPT = `
const net = require('node:net');
const [addr, port, target] = process.argv.slice(1);
// allowHalfOpen: berth half-closes the attach connection after the job script (stdin EOF) and
// reads the output on; a proxy that closed on the first FIN would cut the job's output.
const server = net.createServer({ allowHalfOpen: true }, (client) => {
  const upstream = net.connect({ port: Number(target), host: addr, allowHalfOpen: true });
  const done = () => { client.destroy(); upstream.destroy(); };
  client.on('error', done); upstream.on('error', done);
  client.on('close', done); upstream.on('close', done);
  client.pipe(upstream); upstream.pipe(client);
});
server.listen(Number(port), addr, () => process.stdout.write('listening ' + server.address().port + '\\n'));
`;

/** Starts the proxy in `netns` on `addr:port` (0: any free port) forwarding to `addr:targetPort`. */
export async function startNetnsTcpProxy(netns: string, addr: string, targetPort: number, port = 0): Promise<NetnsTcpProxy> {
  const child: ChildProcess = spawn('nsenter', [`--net=/run/netns/${netns}`, process.execPath, '-e', SCRIPT, addr, String(port), String(targetPort)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const listening = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the proxy did not listen within 10 s: ${out}`)), 10_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening (\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the proxy exited (${code}): ${out}`));
    });
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    endpoint: `tcp://${addr}:${listening}`,
    port: listening,
    pid: child.pid!,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}
