/**
 * What `berth exec` knows about the local repository, read with two git processes (the
 * configuration listing, which host-git also needs, then `git log`) and a few small file reads:
 * the commit, the ref, the remote and the user.
 * Works outside a git repository too (then the project is `local/<dir name>`).
 */
import { stat } from 'node:fs/promises';
import { readRegularFile } from '../../fs-guard/index.js';
import { basename, dirname, join, resolve } from 'node:path';
import { projectPathFromRemote, stripCredentials } from './git-remote.js';
import { readHostGitConfig, runHostGit } from './host-git.js';
import { isoSeconds } from '../../shared/iso-seconds.js';

export const ZERO_SHA = '0000000000000000000000000000000000000000';

export interface LocalGitInfo {
  /** False when cwd is not inside a git working tree. */
  isRepo: boolean;
  /** Top level of the working tree; cwd when there is no repository. */
  root: string;
  /** HEAD; 40 zeros when there is no commit. */
  sha: string;
  /** Branch or tag name of the pipeline. */
  ref: string;
  refType: 'branch' | 'tag';
  /** An annotated tag's message (CI_COMMIT_TAG_MESSAGE), without its signature; '' for a lightweight tag. Tags only. */
  tagMessage?: string;
  /** origin/HEAD, else the current branch, else "main". */
  defaultBranch: string;
  /** The remote's URL without credentials; '' without a remote. */
  remoteUrl: string;
  /** `namespace/project` from the remote, else `local/<dir name>`. */
  projectPath: string;
  commit: { message: string; authorName: string; authorEmail: string; timestamp: string };
  user: { name: string; email: string };
}

export async function readLocalGitInfo(cwd: string): Promise<LocalGitInfo> {
  const start = resolve(cwd);
  const found = await findGitDir(start);
  if (!found) return noRepository(start);
  // The configuration first: `git log` waits for the driver keys it lists (runHostGit).
  const config = readHostGitConfig(found.root);
  const [log, settingsText, head] = await Promise.all([
    runGit(found.root, ['log', '-1', '--decorate=full', '--no-color',
      '--format=%H%x00%D%x00%an%x00%ae%x00%cI%x00%B']),
    config,
    readText(join(found.gitDir, 'HEAD')),
  ]);
  const settings = parseConfig(settingsText);
  const remote = pickRemote(settings);
  const fields = log ? log.split('\0') : [];
  const sha = fields[0] && /^[0-9a-f]{40,64}$/.test(fields[0]) ? fields[0] : ZERO_SHA;
  const { ref, refType } = pickRef(head ?? '', fields[1] ?? '');
  const originHead = remote ? await readText(join(found.commonDir, 'refs', 'remotes', remote.name, 'HEAD')) : null;
  const originDefault = /^ref: refs\/remotes\/[^/]+\/(.+)$/.exec(originHead?.trim() ?? '')?.[1];
  const remoteUrl = remote ? stripCredentials(remote.url) : '';
  const tagMessage = refType === 'tag' ? await readTagMessage(found.root, ref) : undefined;
  return {
    isRepo: true,
    root: found.root,
    sha,
    ref,
    refType,
    ...(tagMessage === undefined ? {} : { tagMessage }),
    defaultBranch: originDefault ?? (refType === 'branch' && ref !== 'HEAD' ? ref : 'main'),
    remoteUrl,
    projectPath: projectPathFromRemote(remoteUrl) ?? `local/${basename(found.root)}`,
    commit: {
      authorName: fields[2] ?? '',
      authorEmail: fields[3] ?? '',
      timestamp: fields[4] || isoSeconds(),
      message: (fields[5] ?? '').replace(/\s+$/, ''),
    },
    user: { name: settings.get('user.name') ?? '', email: settings.get('user.email') ?? '' },
  };
}

/** GitLab's tag message: the annotated tag's text without a signature; '' for a lightweight tag (it points at a commit). */
async function readTagMessage(root: string, tag: string): Promise<string> {
  const out = await runGit(root, ['for-each-ref', '--count=1', '--format=%(objecttype)%00%(contents:subject)%00%(contents:body)', `refs/tags/${tag}`]);
  const [type, subject = '', body = ''] = (out ?? '').split('\0');
  if (type !== 'tag') return '';
  return (body.trim() ? `${subject}\n\n${body}` : subject).replace(/\s+$/, '');
}

function noRepository(cwd: string): LocalGitInfo {
  return {
    isRepo: false,
    root: cwd,
    sha: ZERO_SHA,
    ref: 'main',
    refType: 'branch',
    defaultBranch: 'main',
    remoteUrl: '',
    projectPath: `local/${basename(cwd) || 'project'}`,
    commit: { message: '', authorName: '', authorEmail: '', timestamp: isoSeconds() },
    user: { name: '', email: '' },
  };
}

/** The top level of the git working tree holding `dir`, or null. */
export async function findGitRoot(dir: string): Promise<string | null> {
  return (await findGitDir(resolve(dir)))?.root ?? null;
}

interface GitDirs {
  root: string;
  gitDir: string;
  commonDir: string;
}

/** Walks up from `start` to the first directory holding `.git` (a directory, or a file for worktrees). */
async function findGitDir(start: string): Promise<GitDirs | null> {
  for (let dir = start; ; dir = dirname(dir)) {
    const dotGit = join(dir, '.git');
    const st = await stat(dotGit).catch(() => null);
    if (st?.isDirectory()) return { root: dir, gitDir: dotGit, commonDir: dotGit };
    if (st?.isFile()) {
      const pointer = /^gitdir:\s*(.+)$/m.exec((await readText(dotGit)) ?? '')?.[1]?.trim();
      if (pointer) {
        const gitDir = resolve(dir, pointer);
        const common = (await readText(join(gitDir, 'commondir')))?.trim();
        return { root: dir, gitDir, commonDir: common ? resolve(gitDir, common) : gitDir };
      }
    }
    if (dirname(dir) === dir) return null;
  }
}

/** The branch HEAD points to; when detached, a tag at HEAD, else a branch at HEAD. */
function pickRef(head: string, decorations: string): { ref: string; refType: 'branch' | 'tag' } {
  const symbolic = /^ref: refs\/heads\/(.+)$/.exec(head.trim());
  if (symbolic) return { ref: symbolic[1]!, refType: 'branch' };
  const refs = decorations.split(', ').map((d) => d.replace(/^HEAD -> /, '').trim());
  const tag = refs.find((r) => r.startsWith('tag: refs/tags/'));
  if (tag) return { ref: tag.slice('tag: refs/tags/'.length), refType: 'tag' };
  const branch = refs.find((r) => r.startsWith('refs/heads/'));
  if (branch) return { ref: branch.slice('refs/heads/'.length), refType: 'branch' };
  const remote = refs.find((r) => r.startsWith('refs/remotes/') && !r.endsWith('/HEAD'));
  if (remote) return { ref: remote.split('/').slice(3).join('/'), refType: 'branch' };
  return { ref: 'HEAD', refType: 'branch' };
}

/** remote.<name>.url, user.name and user.email of `git config -z --list`; the last value of a name wins. */
function parseConfig(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const entry of text.split('\0')) {
    const nl = entry.indexOf('\n');
    if (nl <= 0) continue;
    const name = entry.slice(0, nl);
    if (/^(remote\..*\.url|user\.name|user\.email)$/s.test(name)) map.set(name, entry.slice(nl + 1));
  }
  return map;
}

function pickRemote(settings: Map<string, string>): { name: string; url: string } | null {
  const remotes: { name: string; url: string }[] = [];
  for (const [key, url] of settings) {
    const m = /^remote\.(.+)\.url$/.exec(key);
    if (m) remotes.push({ name: m[1]!, url });
  }
  return remotes.find((r) => r.name === 'origin') ?? remotes[0] ?? null;
}

function runGit(cwd: string, args: string[]): Promise<string | null> {
  return runHostGit(cwd, args).catch(() => null);
}

/** Small git metadata files only: never a device, FIFO or huge file a hostile folder put there. */
async function readText(path: string): Promise<string | null> {
  return readRegularFile(path, { maxBytes: 1024 * 1024 }).then((b) => b.toString('utf8'), () => null);
}
