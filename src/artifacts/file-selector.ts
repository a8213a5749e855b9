/**
 * The files of `artifacts:paths/exclude/untracked` and `cache:paths/untracked`, picked the way
 * gitlab-runner's helper does it (commands/helpers/file_archiver.go enumerate), from entries
 * read out of the container instead of a directory walk:
 *
 * - each path is made relative to the project directory; one outside it is skipped with
 *   `WARNING: processPath: artifact path is not a subpath of project directory: <path>`;
 * - its matches (doublestar FilepathGlob, links not followed) are each walked in full, the match
 *   itself first; every visit that is not excluded counts in `<path>: found N matching artifact
 *   files and directories` (a file under two matches, as with `dir/**`, counts twice, as there);
 * - every visited path is tested against the exclude patterns (doublestar.Match); an excluded
 *   directory does not exclude what is under it (`dir/**` does); visits are counted per rule in
 *   `<exclude>: excluded N files`;
 * - `untracked` is `git ls-files -o`: files and links git does not track, ignored ones included,
 *   never `.git/` (and nothing inside a submodule, whose path git tracks); without a repository
 *   (GIT_STRATEGY none or empty) git fails and `untracked` selects nothing, with git's message
 *   and `WARNING: untracked: exit status 128`;
 * - `Part of .git directory is on the list of files to archive` when a selected path is in
 *   `.git` (helpers/archives/path_check_helper.go, printed once by the zip archiver).
 *
 * Reads: each path reads only its base (`dist/**\/*.js` reads `dist`, a plain path reads itself),
 * `untracked` reads the whole directory, and a part under another part is not read again.
 * Differences with gitlab-runner, all from reading a stream and never following a link: entries
 * come in the order of the reads (the paths' order, each read in the container's order), not
 * sorted; the log lines of a path come once its read is done; a path or glob base that is a link
 * is stored as the link (gitlab-runner follows a link given as the base, and drops a dangling
 * link given as a plain path); an exclude pattern outside the project warns once (gitlab-runner
 * warns on every visited file); a pattern whose `..` leaves the project only after cleaning
 * (`*\/../../x`) reads nothing and reports no match, without gitlab-runner's
 * `<file>: not supported: outside build directory` for each file it found out there.
 */
import type { JobLog } from '../log/job-log.js';
import { abortReason } from '../shared/abort.js';
import type { FileEntry, FileEntrySource } from './file-entry.js';
import { matchDoublestar } from './doublestar.js';
import { globIncludes, isUnder, parentOf } from './glob-includes.js';
import { type PathRule, pathRuleOf, relativeToProject } from './project-pattern.js';

export interface ProjectReader {
  read(relPath: string, signal: AbortSignal): Promise<FileEntrySource | null>;
  /** Null: no git repository (`untracked` then selects nothing, after git's failure). */
  tracked(): ReadonlySet<string> | null;
}

/** The rules of one `artifacts:` or `cache:` entry, variables already expanded. */
export interface SelectionRules {
  paths: string[];
  exclude: string[];
  untracked: boolean;
}

export interface Selection {
  /** The selected entries, each path once (iterate it once); the log lines are printed as it goes. */
  entries: FileEntrySource;
  /**
   * After `entries` is exhausted: how many paths were selected (gitlab-runner's file list, so
   * the project directory itself counts when a path selected it, though it is not an entry).
   */
  count(): number;
  /**
   * After `entries` is exhausted: the newest modification time among the selected paths (the
   * project directory's too when a path selected it), or null when none was selected.
   * gitlab-runner's cache-archiver compares these times with its cache.zip's (isChanged).
   */
  newest(): Date | null;
}

export interface SelectOptions {
  /** CI_PROJECT_DIR in the container (absolute): the helper's working directory. */
  projectDir: string;
  log: JobLog;
  signal: AbortSignal;
  /** Print the `.git` warnings (gitlab-runner's zip archiver does; its gzip and raw ones do not). Default true. */
  warnGitDirectory?: boolean;
}

/** One entry of `paths`, resolved, with what it found. */
interface PathPlan {
  path: string;
  rule: PathRule | null;
  /** The warning printed first (no rule to apply). */
  skipWarning: string;
  /** Whether the found/no matching line follows (every path but a refused one does). */
  reportsCount: boolean;
  root: string;
  found: number;
  /** Visits counted by the matches at or above each directory seen. */
  dirCounts: Map<string, number>;
}

type ExcludePlan = { pattern: string; rel: string; error: '' } | { pattern: string; rel: ''; error: string };

/**
 * The entries `rules` select in the project that `reader` reads, with gitlab-runner's log lines
 * on `opts.log`. Nothing is read before `entries` is iterated.
 */
export function selectFiles(reader: ProjectReader, rules: SelectionRules, opts: SelectOptions): Selection {
  let selected = 0;
  let newest: Date | null = null;
  // a generator runs nothing until it is iterated, and runs once
  const entries = iterate(reader, rules, opts, (mtime) => {
    selected++;
    if (newest === null || mtime.getTime() > newest.getTime()) newest = mtime;
  });
  return { entries, count: () => selected, newest: () => newest };
}

async function* iterate(
  reader: ProjectReader,
  rules: SelectionRules,
  opts: SelectOptions,
  onSelected: (mtime: Date) => void,
): AsyncGenerator<FileEntry> {
  const { log, signal } = opts;
  const wd = opts.projectDir;
  const plans = rules.paths.map((p) => planPath(p, wd));
  const excludes: ExcludePlan[] = rules.exclude.map((pattern) => {
    const r = relativeToProject(pattern, wd);
    return r.ok ? { pattern, rel: r.rel, error: '' } : { pattern, rel: '', error: r.error };
  });
  const excludedCounts = new Map<string, number>();
  const warnedExcludes = new Set<string>();
  const repository = rules.untracked ? reader.tracked() : new Set<string>();
  // processUntracked: `git ls-files -o` fails outside a repository; nothing is selected by it.
  const untrackedOn = rules.untracked && repository !== null;
  const tracked = repository ?? new Set<string>();
  let untrackedFound = 0;
  let gitWarned = opts.warnGitDirectory === false;
  const seen = new Set<string>();

  const roots = readRoots(plans.filter((p) => p.rule !== null).map((p) => p.root), untrackedOn);
  const done = new Set<string>();
  let printed = 0;
  const printReady = (): void => {
    for (; printed < plans.length; printed++) {
      const plan = plans[printed]!;
      if (plan.rule !== null && !done.has(coveringRoot(roots, plan.root))) return;
      printPlan(plan, wd, log);
    }
  };

  const excludedBy = (path: string): string | null => {
    for (const ex of excludes) {
      if (ex.error !== '') {
        // gitlab-runner stops at the first exclude it cannot resolve and excludes nothing
        if (!warnedExcludes.has(ex.pattern)) log.warning(`isExcluded: ${ex.error}`);
        warnedExcludes.add(ex.pattern);
        return null;
      }
      if (matchDoublestar(ex.rel, path)) return ex.pattern;
    }
    return null;
  };

  printReady(); // the paths refused before any read
  for (const root of roots) {
    const active = plans.filter((p) => p.rule !== null && coveringRoot(roots, p.root) === root);
    if (signal.aborted) throw abortReason(signal);
    const source = await reader.read(root === '.' ? '' : root, signal);
    if (source !== null) {
      for await (const entry of source) {
        if (signal.aborted) {
          entry.body.resume();
          throw abortReason(signal);
        }
        const path = entry.path === '' ? '.' : entry.path;
        const isDir = entry.type === 'directory';
        const visits = active.map((plan) => visitsOf(plan, path, isDir));
        const untracked = untrackedOn && isUntracked(path, entry, tracked) ? 1 : 0;
        const total = visits.reduce((a, b) => a + b, untracked);
        if (total === 0 || seen.has(path)) {
          entry.body.resume();
          continue;
        }
        const rule = excludedBy(path);
        if (rule !== null) {
          excludedCounts.set(rule, (excludedCounts.get(rule) ?? 0) + total);
          entry.body.resume();
          continue;
        }
        active.forEach((plan, i) => (plan.found += visits[i]!));
        untrackedFound += untracked;
        seen.add(path);
        onSelected(entry.mtime);
        if (path === '.') {
          // the project directory itself is in gitlab-runner's list, but it is no archive member
          entry.body.resume();
          continue;
        }
        if (!gitWarned && (path === '.git' || path.startsWith('.git/'))) {
          gitWarned = true;
          log.warning('Part of .git directory is on the list of files to archive');
          log.warning('This may introduce unexpected problems');
        }
        yield entry;
      }
    }
    done.add(root);
    printReady();
  }
  printReady();
  if (rules.untracked && !untrackedOn) {
    // git's own message (the helper's stderr is the job log), then processUntracked's warning.
    log.println('fatal: not a git repository (or any of the parent directories): .git');
    log.warning('untracked: exit status 128');
  } else if (rules.untracked) {
    if (untrackedFound === 0) log.warning('untracked: no files');
    else log.println(`untracked: found ${untrackedFound} files`);
  }
  for (const rule of new Set(rules.exclude)) {
    const n = excludedCounts.get(rule);
    if (n !== undefined) log.println(`${rule}: excluded ${n} files`);
  }
}

function planPath(path: string, wd: string): PathPlan {
  const plan: PathPlan = {
    path,
    rule: null,
    skipWarning: '',
    reportsCount: true,
    root: '.',
    found: 0,
    dirCounts: new Map(),
  };
  if (path === '') {
    plan.skipWarning = 'No matching files. Path is empty.';
    plan.reportsCount = false;
    return plan;
  }
  const rel = relativeToProject(path, wd);
  if (!rel.ok) {
    plan.skipWarning = `processPath: ${rel.error}`;
    plan.reportsCount = false;
    return plan;
  }
  const rule = pathRuleOf(rel.rel);
  if (rule.kind === 'bad-pattern') {
    plan.skipWarning = `${path}: syntax error in pattern`;
    plan.reportsCount = false;
  } else if (rule.kind === 'outside') {
    // gitlab-runner globs there and warns `<file>: not supported: outside build directory` for
    // each file it finds, then reports no match; berth reads nothing outside: the report only
  } else {
    plan.rule = rule;
    plan.root = rule.kind === 'literal' ? rule.path : rule.base;
  }
  return plan;
}

function printPlan(plan: PathPlan, wd: string, log: JobLog): void {
  if (plan.skipWarning !== '') log.warning(plan.skipWarning);
  if (!plan.reportsCount) return;
  if (plan.found === 0) {
    log.warning(`${plan.path}: no matching files. Ensure that the artifact path is relative to the working directory (${wd})`);
  } else {
    log.println(`${plan.path}: found ${plan.found} matching artifact files and directories`);
  }
}

/** The reads to make: each needed root once, none under another, in the order first needed. */
function readRoots(needed: string[], untracked: boolean): string[] {
  const all = untracked ? [...needed, '.'] : needed;
  const roots: string[] = [];
  for (const r of all) {
    if (roots.includes(r)) continue;
    if (all.some((o) => o !== r && isUnder(r, o))) continue;
    roots.push(r);
  }
  return roots;
}

function coveringRoot(roots: string[], root: string): string {
  return roots.find((r) => r === root || isUnder(root, r)) ?? root;
}

/** How many times gitlab-runner's walks visit `path` for this plan: once per match at or above it. */
function visitsOf(plan: PathPlan, path: string, isDir: boolean): number {
  const rule = plan.rule!;
  if (rule.kind === 'literal') {
    return path === rule.path || isUnder(path, rule.path) ? 1 : 0;
  }
  if (rule.kind !== 'glob') return 0;
  const here = matchesHere(rule.base, rule.pattern, path, isDir) ? 1 : 0;
  const total = here + (path === '.' ? 0 : dirCount(plan, rule.base, rule.pattern, parentOf(path)));
  if (isDir) plan.dirCounts.set(path, total);
  return total;
}

/** Visits counted by the matches at or above the directory `dir`. */
function dirCount(plan: PathPlan, base: string, pattern: string, dir: string): number {
  const known = plan.dirCounts.get(dir);
  if (known !== undefined) return known;
  if (dir !== base && !isUnder(dir, base)) return 0;
  const here = matchesHere(base, pattern, dir, true) ? 1 : 0;
  const total = here + (dir === base || dir === '.' ? 0 : dirCount(plan, base, pattern, parentOf(dir)));
  plan.dirCounts.set(dir, total);
  return total;
}

function matchesHere(base: string, pattern: string, path: string, isDir: boolean): boolean {
  let rel: string;
  if (path === base) rel = '.';
  else if (base === '.') rel = path;
  else if (isUnder(path, base)) rel = path.slice(base.length + 1);
  else return false;
  return globIncludes(pattern, rel, isDir);
}

/** `git ls-files -o`: a file or link git does not track, outside `.git` and outside submodules. */
function isUntracked(path: string, entry: FileEntry, tracked: ReadonlySet<string>): boolean {
  if (entry.type !== 'file' && entry.type !== 'symlink') return false;
  if (path === '.git' || path.startsWith('.git/') || tracked.has(path)) return false;
  for (let i = path.indexOf('/'); i !== -1; i = path.indexOf('/', i + 1)) {
    if (tracked.has(path.slice(0, i))) return false;
  }
  return true;
}
