/** HTTP plumbing of the GitLab test server: routing, body reading, replies. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Endpoint, RecordedRequest } from './gitlab-test-server-state.js';

export interface Incoming {
  req: IncomingMessage;
  res: ServerResponse;
  body: Buffer;
  record: RecordedRequest;
}

const MAX_BODY = 64 * 1024 * 1024;

export function reply(inc: Incoming, status: number, body: string, headers: Record<string, string> = {}): void {
  inc.record.status = status;
  if (inc.res.headersSent || inc.res.destroyed) return;
  inc.res.writeHead(status, { 'Content-Type': 'text/plain', ...headers });
  inc.res.end(status === 204 ? undefined : body);
}

export function replyJson(inc: Incoming, status: number, json: unknown): void {
  inc.record.status = status;
  inc.res.writeHead(status, { 'Content-Type': 'application/json' });
  inc.res.end(JSON.stringify(json));
}

export function routeOf(method: string, path: string): { endpoint: Endpoint | 'unknown'; jobId?: number } {
  const p = path.replace(/\/+$/, '');
  if (method === 'POST' && p === '/api/v4/runners') return { endpoint: 'register' };
  if (method === 'POST' && p === '/api/v4/runners/verify') return { endpoint: 'verify' };
  if (method === 'DELETE' && p === '/api/v4/runners') return { endpoint: 'unregister' };
  if (method === 'DELETE' && p === '/api/v4/runners/managers') return { endpoint: 'unregister-manager' };
  if (method === 'POST' && p === '/api/v4/runners/reset_authentication_token') return { endpoint: 'reset-token' };
  if (method === 'POST' && p === '/api/v4/jobs/request') return { endpoint: 'request' };
  let m = /^\/api\/v4\/jobs\/(\d+)$/.exec(p);
  if (m && method === 'PUT') return { endpoint: 'update', jobId: Number(m[1]) };
  m = /^\/api\/v4\/jobs\/(\d+)\/trace$/.exec(p);
  if (m && method === 'PATCH') return { endpoint: 'patch', jobId: Number(m[1]) };
  m = /^\/api\/v4\/jobs\/(\d+)\/artifacts$/.exec(p);
  if (m && method === 'POST') return { endpoint: 'upload-artifacts', jobId: Number(m[1]) };
  if (m && method === 'GET') return { endpoint: 'download-artifacts', jobId: Number(m[1]) };
  if (method === 'GET' && /^\/object-storage\/[0-9a-f]+$/.test(p)) return { endpoint: 'object-storage' };
  return { endpoint: 'unknown' };
}

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        reject(new Error('request body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function tryJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Valid UTF-8, allowing only an incomplete character at the very end (the next patch completes it). */
export function validUtf8Prefix(bytes: Buffer): boolean {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: true });
    return true;
  } catch {
    return false;
  }
}
