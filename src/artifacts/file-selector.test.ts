import { describe, expect, it } from 'vitest';
import { collect, entries, memoryProject, type MemoryProject } from '../../test/support/file-entries.js';
import { MemoryByteWriter } from '../log/byte-writer.js';
import { JobLog } from '../log/job-log.js';
import { stripAnsi } from '../shared/ansi.js';
import { selectFiles, type SelectionRules } from './file-selector.js';

const WD = '/builds/g/p';
const NO_MATCH = `Ensure that the artifact path is relative to the working directory (${WD})`;

// The counts below are gitlab-runner's: the same tree was built on disk and its
// commands/helpers/file_archiver.go (with doublestar v4) run on it with the same rules.
function project(): MemoryProject {
  return memoryProject(
    entries(
      '.git/HEAD',
      '.git/objects/ab/cdef',
      '.gitignore',
      'README.md',
      'src/a.js',
      'src/sub/c.js',
      'src/new.js',
      'dist/app.js',
      'dist/app.js.map',
      'dist/.hidden.js',
      'dist/sub/x.js',
      'dist/sub/y.css',
      'dist/link-out -> /etc',
      'build.log',
      '.env',
      'notes.txt',
      'link-out -> /etc',
    ),
    ['.gitignore', 'README.md', 'src/a.js', 'src/sub/c.js'],
  );
}

async function run(reader: MemoryProject, rules: Partial<SelectionRules>, signal = new AbortController().signal) {
  const sink = new MemoryByteWriter();
  const log = new JobLog(sink, { traceSections: false });
  const sel = selectFiles(reader, { paths: [], exclude: [], untracked: false, ...rules }, { projectDir: WD, log, signal });
  const got = await collect(sel.entries);
  const lines = stripAnsi(sink.text).split('\n').filter((l) => l !== '');
  return { paths: got.map((e) => e.path), got, lines, count: sel.count(), reads: reader.reads };
}

describe('selectFiles: globs', () => {
  it('`dist/**/*.js` reads only dist and takes dotfiles at any depth', async () => {
    const r = await run(project(), { paths: ['dist/**/*.js'] });
    expect(r.reads).toEqual(['dist']);
    expect(r.paths).toEqual(['dist/.hidden.js', 'dist/app.js', 'dist/sub/x.js']);
    expect(r.lines).toEqual(['dist/**/*.js: found 3 matching artifact files and directories']);
    expect(r.count).toBe(3);
  });

  it('`dist/**` counts each file once per match above it (17 visits, 8 entries)', async () => {
    const r = await run(project(), { paths: ['dist/**'] });
    expect(r.paths).toEqual([
      'dist',
      'dist/.hidden.js',
      'dist/app.js',
      'dist/app.js.map',
      'dist/link-out',
      'dist/sub',
      'dist/sub/x.js',
      'dist/sub/y.css',
    ]);
    expect(r.lines).toEqual(['dist/**: found 17 matching artifact files and directories']);
    expect(r.count).toBe(8);
  });

  it('`{dist,src}/*.js` has no base: it reads the whole directory once', async () => {
    const r = await run(project(), { paths: ['{dist,src}/*.js'] });
    expect(r.reads).toEqual(['']);
    expect(r.paths).toEqual(['dist/.hidden.js', 'dist/app.js', 'src/a.js', 'src/new.js']);
    expect(r.lines).toEqual(['{dist,src}/*.js: found 4 matching artifact files and directories']);
  });

  it('`*` and `.*` at the top take the .git directory, with the archiver warnings once', async () => {
    const r = await run(project(), { paths: ['.*'] });
    expect(r.paths).toEqual(['.env', '.git', '.git/HEAD', '.git/objects', '.git/objects/ab', '.git/objects/ab/cdef', '.gitignore']);
    expect(r.lines).toEqual([
      'WARNING: Part of .git directory is on the list of files to archive',
      'WARNING: This may introduce unexpected problems',
      '.*: found 7 matching artifact files and directories',
    ]);
  });
});

describe('selectFiles: reads', () => {
  it('reads a base once when another path is under it, and yields each entry once', async () => {
    const reader = project();
    const r = await run(reader, { paths: ['dist', 'dist/sub', 'dist/sub/*.css'] });
    expect(r.reads).toEqual(['dist']);
    expect(r.paths).toHaveLength(8);
    expect(new Set(r.paths).size).toBe(8);
    expect(r.lines).toEqual([
      'dist: found 8 matching artifact files and directories',
      'dist/sub: found 3 matching artifact files and directories',
      'dist/sub/*.css: found 1 matching artifact files and directories',
    ]);
  });

  it('the same file through two rules is one entry, counted by both', async () => {
    const r = await run(project(), { paths: ['dist/app.js', 'dist/*.js'] });
    expect(r.reads).toEqual(['dist']);
    expect(r.paths).toEqual(['dist/.hidden.js', 'dist/app.js']);
    expect(r.lines).toEqual([
      'dist/app.js: found 1 matching artifact files and directories',
      'dist/*.js: found 2 matching artifact files and directories',
    ]);
    expect(r.count).toBe(2);
  });

  it('selected bodies arrive whole and skipped ones are drained', async () => {
    const reader = project();
    const r = await run(reader, { paths: ['src/**/c.js', 'src/a.js'] });
    expect(r.reads).toEqual(['src']);
    expect(r.got).toEqual([
      { path: 'src/a.js', type: 'file', content: 'src/a.js' },
      { path: 'src/sub/c.js', type: 'file', content: 'src/sub/c.js' },
    ]);
    expect(reader.produced()).toBe(5); // src, a.js, new.js, sub, sub/c.js: read to the end
  });
});

describe('selectFiles: exclude', () => {
  it('excluding a directory keeps what is under it', async () => {
    const r = await run(project(), { paths: ['dist'], exclude: ['dist/sub'] });
    expect(r.paths).not.toContain('dist/sub');
    expect(r.paths).toContain('dist/sub/x.js');
    expect(r.lines).toEqual(['dist: found 7 matching artifact files and directories', 'dist/sub: excluded 1 files']);
  });

  it('`dir/**` excludes the directory and everything under it', async () => {
    const r = await run(project(), { paths: ['dist'], exclude: ['dist/sub/**'] });
    expect(r.paths).toEqual(['dist', 'dist/.hidden.js', 'dist/app.js', 'dist/app.js.map', 'dist/link-out']);
    expect(r.lines).toEqual(['dist: found 5 matching artifact files and directories', 'dist/sub/**: excluded 3 files']);
  });

  it('counts per exclude rule, the first matching rule taking the file', async () => {
    const r = await run(project(), { paths: ['dist/**/*.js', 'dist/*'], exclude: ['**/*.map', 'dist/.*'] });
    expect(r.paths).toEqual(['dist/app.js', 'dist/link-out', 'dist/sub', 'dist/sub/x.js', 'dist/sub/y.css']);
    expect(r.lines).toEqual([
      'dist/**/*.js: found 2 matching artifact files and directories',
      'dist/*: found 5 matching artifact files and directories',
      '**/*.map: excluded 1 files',
      'dist/.*: excluded 2 files',
    ]);
  });

  it('an absolute exclude inside the project works; one outside excludes nothing and warns once', async () => {
    const inside = await run(project(), { paths: ['dist/*.js'], exclude: [`${WD}/dist/app.*`] });
    expect(inside.paths).toEqual(['dist/.hidden.js']);
    const outside = await run(project(), { paths: ['dist/*.js'], exclude: ['/etc/*', 'dist/app.js'] });
    expect(outside.paths).toEqual(['dist/.hidden.js', 'dist/app.js']);
    expect(outside.lines).toEqual([
      'WARNING: isExcluded: artifact path is not a subpath of project directory: /etc/*',
      'dist/*.js: found 2 matching artifact files and directories',
    ]);
  });
});

describe('selectFiles: untracked', () => {
  it('takes files and links git does not track, ignored ones too, never .git', async () => {
    const r = await run(project(), { untracked: true });
    expect(r.reads).toEqual(['']);
    expect(r.paths).toEqual([
      '.env',
      'build.log',
      'dist/.hidden.js',
      'dist/app.js',
      'dist/app.js.map',
      'dist/link-out',
      'dist/sub/x.js',
      'dist/sub/y.css',
      'link-out',
      'notes.txt',
      'src/new.js',
    ]);
    expect(r.lines).toEqual(['untracked: found 11 files']);
  });

  it('comes after the paths, with excludes applied to both', async () => {
    const r = await run(project(), { paths: ['src'], untracked: true, exclude: ['*.log'] });
    expect(r.reads).toEqual(['']);
    expect(r.lines).toEqual([
      'src: found 5 matching artifact files and directories',
      'untracked: found 10 files',
      '*.log: excluded 1 files',
    ]);
    expect(r.count).toBe(14);
  });

  it('leaves out what is inside a submodule (its path is tracked)', async () => {
    const reader = memoryProject(entries('vendor/mod/.git', 'vendor/mod/lib.go', 'x.txt'), ['vendor/mod']);
    const r = await run(reader, { untracked: true });
    expect(r.paths).toEqual(['x.txt']);
  });

  it('warns when there is nothing untracked', async () => {
    const reader = memoryProject(entries('a.txt'), ['a.txt']);
    const r = await run(reader, { untracked: true });
    expect(r.paths).toEqual([]);
    expect(r.lines).toEqual(['WARNING: untracked: no files']);
  });

  it('selects nothing without a git repository (GIT_STRATEGY none/empty): git\'s failure, as gitlab-runner\'s processUntracked', async () => {
    const reader = memoryProject(entries('dep/a.txt', 'b.txt'), null);
    const r = await run(reader, { paths: ['dep'], untracked: true });
    expect(r.paths).toEqual(['dep', 'dep/a.txt']);
    expect(r.lines).toEqual([
      'dep: found 2 matching artifact files and directories',
      'fatal: not a git repository (or any of the parent directories): .git',
      'WARNING: untracked: exit status 128',
    ]);
    // Only the paths' own bases were read, not the whole directory.
    expect(reader.reads).toEqual(['dep']);
  });
});

describe('selectFiles: paths outside, empty, missing, links', () => {
  it('takes absolute paths inside the project and skips those outside with the warning', async () => {
    const reader = project();
    const r = await run(reader, { paths: [`${WD}/dist/*.js`, '/etc', '../x', 'dist/../../x*', '', 'nope'] });
    expect(r.reads).toEqual(['dist', 'nope']);
    expect(r.paths).toEqual(['dist/.hidden.js', 'dist/app.js']);
    expect(r.lines).toEqual([
      `${WD}/dist/*.js: found 2 matching artifact files and directories`,
      'WARNING: processPath: artifact path is not a subpath of project directory: /etc',
      'WARNING: processPath: artifact path is not a subpath of project directory: ../x',
      'WARNING: processPath: artifact path is not a subpath of project directory: dist/../../x*',
      'WARNING: No matching files. Path is empty.',
      `WARNING: nope: no matching files. ${NO_MATCH}`,
    ]);
  });

  it('a pattern that leaves the project only once cleaned reads nothing and matches nothing', async () => {
    const reader = project();
    const r = await run(reader, { paths: ['*/../../etc'] });
    expect(r.reads).toEqual([]);
    expect(r.lines).toEqual([`WARNING: */../../etc: no matching files. ${NO_MATCH}`]);
  });

  it('stores a link to the outside as a link and never reads through it', async () => {
    const reader = project();
    const r = await run(reader, { paths: ['dist/link-out', 'link-out/*', 'link-out/passwd'] });
    expect(r.got).toEqual([{ path: 'dist/link-out', type: 'symlink', content: '' }]);
    expect(r.reads).toEqual(['dist/link-out', 'link-out']); // link-out/passwd is under link-out
    expect(reader.produced()).toBe(2); // the two link entries, nothing under them
    expect(r.lines).toEqual([
      'dist/link-out: found 1 matching artifact files and directories',
      `WARNING: link-out/*: no matching files. ${NO_MATCH}`,
      `WARNING: link-out/passwd: no matching files. ${NO_MATCH}`,
    ]);
  });

  it('the project directory itself (`.`) selects everything; it counts but is not an entry', async () => {
    const r = await run(project(), { paths: ['.'] });
    expect(r.reads).toEqual(['']);
    expect(r.paths).not.toContain('');
    expect(r.paths).toHaveLength(24);
    expect(r.count).toBe(25);
    expect(r.lines.at(-1)).toBe('.: found 25 matching artifact files and directories');
  });

  it('a pattern with a syntax error is reported and skipped', async () => {
    const r = await run(project(), { paths: ['dist/[.js', 'dist/app.js'] });
    expect(r.paths).toEqual(['dist/app.js']);
    expect(r.lines).toEqual([
      'WARNING: dist/[.js: syntax error in pattern',
      'dist/app.js: found 1 matching artifact files and directories',
    ]);
  });

  it('reads nothing until entries is iterated, and leaves out the .git warnings when asked', async () => {
    const reader = project();
    const sink = new MemoryByteWriter();
    const log = new JobLog(sink, { traceSections: false });
    const opts = { projectDir: WD, log, signal: new AbortController().signal, warnGitDirectory: false };
    const sel = selectFiles(reader, { paths: ['.git'], exclude: [], untracked: false }, opts);
    await Promise.resolve();
    expect(reader.reads).toEqual([]);
    expect(sink.text).toBe('');
    expect((await collect(sel.entries)).map((e) => e.path)).toEqual(['.git', '.git/HEAD', '.git/objects', '.git/objects/ab', '.git/objects/ab/cdef']);
    expect(stripAnsi(sink.text)).toBe('.git: found 5 matching artifact files and directories\n');
  });

  it('stops with the abort reason when the signal aborts', async () => {
    const ac = new AbortController();
    ac.abort(new Error('job canceled'));
    await expect(run(project(), { paths: ['dist'] }, ac.signal)).rejects.toThrow('job canceled');
  });
});
