import { describe, expect, it } from 'vitest';
import { PullProgressLog } from './pull-progress.js';

describe('PullProgressLog', () => {
  it('prints one line per layer state change, not per tick', () => {
    const lines: string[] = [];
    const p = new PullProgressLog((l) => lines.push(l));
    const events = [
      { status: 'Pulling from group/app', id: '1' },
      { status: 'Pulling fs layer', id: 'aaa' },
      { status: 'Pulling fs layer', id: 'bbb' },
      { status: 'Downloading', id: 'aaa', progress: '[=>   ] 1kB/9kB' },
      { status: 'Downloading', id: 'aaa', progress: '[===> ] 5kB/9kB' },
      { status: 'Downloading', id: 'bbb', progress: '[=>   ] 1kB/9kB' },
      { status: 'Downloading', id: 'aaa', progress: '[=====] 9kB/9kB' },
      { status: 'Download complete', id: 'aaa' },
      { status: 'Extracting', id: 'aaa', progress: '[=>   ]' },
      { status: 'Extracting', id: 'aaa', progress: '[=====]' },
      { status: 'Pull complete', id: 'aaa' },
      { status: 'Digest: sha256:abc' },
      { status: 'Status: Downloaded newer image for group/app:1' },
      {},
    ];
    for (const e of events) p.onProgress(e);
    expect(lines).toEqual([
      '1: Pulling from group/app',
      'aaa: Pulling fs layer',
      'bbb: Pulling fs layer',
      'aaa: Downloading',
      'bbb: Downloading',
      'aaa: Download complete',
      'aaa: Extracting',
      'aaa: Pull complete',
      'Digest: sha256:abc',
      'Status: Downloaded newer image for group/app:1',
    ]);
  });
});
