import { mkdtempSync, rmSync, symlinkSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { collectCoverage, coverageIn, coverageInLog } from './job-coverage.js';

const dir = mkdtempSync(join(tmpdir(), 'berth-coverage-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('coverageIn (GitLab Trace::Stream#extract_coverage)', () => {
  it('reads the lines from the last: the last line that matches with a number wins', () => {
    const log = 'Coverage: 10.5%\nrunning\nCoverage: 87.25%\ndone\n';
    expect(coverageIn(log, 'Coverage: \\d+\\.\\d+%')).toEqual({ coverage: 87.25 });
  });

  it('takes the last match of a line, and its last group when the pattern has groups', () => {
    expect(coverageIn('a 10% b 20% c 30%', '\\d+%')).toEqual({ coverage: 30 });
    expect(coverageIn('lines 71.3% (of 90) branches 55%', '(lines|branches) (\\d+(?:\\.\\d+)?)%')).toEqual({ coverage: 55 });
    // GitLab's PHPUnit example: the figure after "Lines:".
    expect(coverageIn('  Classes: 20.00% (1/5)\n  Methods: 66.67% (2/3)\n  Lines:   83.33% (5/6)\n', '^\\s*Lines:\\s*\\d+.\\d+\\%')).toEqual({ coverage: 83.33 });
  });

  it('a match without a number passes to the line before; a last group that did not take part ends with none', () => {
    expect(coverageIn('TOTAL 42%\nTOTAL n/a\n', 'TOTAL \\S+')).toEqual({ coverage: 42 });
    expect(coverageIn('total 42%\nother\n', '(total (\\d+)%)|(other)')).toEqual({ coverage: null });
    expect(coverageIn('nothing here\n', 'Coverage: \\d+%')).toEqual({ coverage: null });
  });

  it('takes the first number of what matched, with its decimals (GitLab stores a float)', () => {
    expect(coverageIn('All files | 91.4 | 80 |', 'All files\\s*\\|\\s*[\\d.]+')).toEqual({ coverage: 91.4 });
    expect(coverageIn('cov=100.00', 'cov=\\S+')).toEqual({ coverage: 100 });
  });

  it('handles patterns that match empty text and CRLF lines', () => {
    expect(coverageIn('x\r\nCoverage 12%\r\n', 'Coverage \\d+%$')).toEqual({ coverage: 12 });
    expect(coverageIn('abc', 'z*')).toEqual({ coverage: null });
  });

  it('stops a pattern that backtracks for ever at the time limit, with a clear problem', () => {
    const started = Date.now();
    const result = coverageIn(`${'a'.repeat(40)}!\n`, '^(a+)+$', 200);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(result).toEqual({ problem: expect.stringMatching(/took longer than 0.2 s on the job log; no coverage recorded/) });
  });

  it('says when the pattern cannot be read as JavaScript', () => {
    expect(coverageIn('x', '(?U)a')).toEqual({ problem: expect.stringMatching(/cannot read the coverage regular expression \/\(\?U\)a\/: .*ungreedy/) });
  });
});

describe('coverageInLog / collectCoverage', () => {
  it('reads only the last run of a retried job (from its start in the file)', async () => {
    const log = join(dir, 'job.log');
    writeFileSync(log, 'first run\nCoverage: 99%\n');
    const start = Buffer.byteLength('first run\nCoverage: 99%\n');
    appendFileSync(log, 'second run\nno figure\n');
    expect(await coverageInLog(log, 0, 'Coverage: \\d+%')).toEqual({ coverage: 99 });
    expect(await coverageInLog(log, start, 'Coverage: \\d+%')).toEqual({ coverage: null });
  });

  it('never reads through a link, and says so', async () => {
    const secret = join(dir, 'secret.txt');
    writeFileSync(secret, 'Coverage: 50%\n');
    const link = join(dir, 'link.log');
    symlinkSync(secret, link);
    expect(await coverageInLog(link, 0, 'Coverage: \\d+%')).toEqual({ problem: expect.stringMatching(/could not be read for its coverage: .*ELOOP/) });
  });

  it('gives each job that ran and has coverage: its figure, skipping the others', async () => {
    const a = join(dir, 'a.log');
    writeFileSync(a, 'Coverage: 75.5%\n');
    const runs = new Map([['a', { path: a, start: 0 }]]);
    const out = await collectCoverage(
      [
        { name: 'a', pattern: 'Coverage: \\d+\\.\\d+%' },
        { name: 'b', pattern: null },
        { name: 'never-ran', pattern: 'x' },
      ],
      (name) => runs.get(name),
    );
    expect(out).toEqual([{ job: 'a', coverage: 75.5, problem: null }]);
  });
});
