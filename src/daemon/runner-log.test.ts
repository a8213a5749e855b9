import { describe, expect, it } from 'vitest';
import { createRunnerLog } from './runner-log.js';

const at = () => new Date('2026-11-27T12:00:00Z');

describe('runner log', () => {
  it('writes json and text, filters by level, and scrubs every line', () => {
    const lines: string[] = [];
    const scrub = (t: string) => t.replace(/glrt-[A-Za-z0-9_-]+/g, 'glrt-[MASKED]');
    const json = createRunnerLog({ level: 'info', format: 'json', write: (l) => lines.push(l), scrub, now: at });
    json.debug('hidden');
    json.info('Job succeeded', { job: 12, runner: 'abc' });
    json.warn('token glrt-secret123 leaked');
    expect(lines).toEqual([
      '{"level":"info","msg":"Job succeeded","time":"2026-11-27T12:00:00.000Z","job":12,"runner":"abc"}\n',
      '{"level":"warn","msg":"token glrt-[MASKED] leaked","time":"2026-11-27T12:00:00.000Z"}\n',
    ]);
    lines.length = 0;
    const text = createRunnerLog({ level: 'debug', format: 'text', write: (l) => lines.push(l), now: at });
    text.debug('Checking for jobs', { result: 'no job' });
    expect(lines).toEqual(['time="2026-11-27T12:00:00.000Z" level=debug msg="Checking for jobs" result="no job"\n']);
  });
});
