import { describe, expect, it } from 'vitest';
import { goResponseText } from './go-response-text.js';
import type { HttpResponse } from './http-transport.js';

const url = new URL('https://u:p@gitlab.example.com/api/v4/jobs/7/artifacts?artifact_type=junit#x');
const json = (status: number, body: unknown, statusText?: string): HttpResponse => ({
  status,
  ...(statusText ? { statusText } : {}),
  headers: { 'content-type': 'application/json' },
  body: Buffer.from(JSON.stringify(body)),
});

describe('goResponseText (gitlab-runner network/client.go ResponseError)', () => {
  it('GitLab\'s JSON message after the URL without userinfo, query or fragment, and Go\'s status text', () => {
    expect(goResponseText('POST', url, json(413, { message: 'file size has reached maximum size limit' }, 'Payload Too Large'))).toBe(
      'POST https://gitlab.example.com/api/v4/jobs/7/artifacts: 413 Request Entity Too Large (file size has reached maximum size limit)',
    );
  });

  it('a message that only repeats the status is left out; a validation map is "key: a; b"; no message is "()"', () => {
    expect(goResponseText('POST', url, json(403, { message: '403 Forbidden' }))).toBe('POST https://gitlab.example.com/api/v4/jobs/7/artifacts: 403 Forbidden');
    expect(goResponseText('POST', url, json(400, { message: { file: ['is missing', 'is empty'] } }))).toBe(
      'POST https://gitlab.example.com/api/v4/jobs/7/artifacts: 400 Bad Request (file: is missing; is empty)',
    );
    expect(goResponseText('POST', url, json(500, { error: 'x' }))).toBe('POST https://gitlab.example.com/api/v4/jobs/7/artifacts: 500 Internal Server Error ()');
  });

  it('not JSON (or JSON that is not an object): the status line as the server sent it', () => {
    const html: HttpResponse = { status: 502, statusText: 'Bad Gateway', headers: { 'content-type': 'text/html' }, body: Buffer.from('<html>') };
    expect(goResponseText('POST', url, html)).toBe('502 Bad Gateway');
    expect(goResponseText('POST', url, json(500, ['x'], 'Internal Server Error'))).toBe('500 Internal Server Error');
  });
});
