/**
 * `artifacts:reports:junit`, counted the way GitLab counts it for the pipeline's test report
 * (lib/gitlab/ci/parsers/test/junit.rb, on lib/gitlab/xml_converter.rb = ActiveSupport's
 * Hash.from_xml over Nokogiri; lib/gitlab/ci/reports/test_suite.rb, test_case.rb).
 *
 * What GitLab does, and berth with it:
 * - The root must be `<testsuites>` or `<testsuite>`; other roots hold no test cases (no error).
 *   Under a root `<testsuites>`, its direct `<testcase>`s count and each `<testsuite>` is walked;
 *   `<testsuite>`s nest to any depth (PHPUnit); a `<testsuites>` below the root is not walked.
 * - A `<testcase>` is `failed` if it has a `failure` child (or attribute), else `error` if it has
 *   `error`, else `skipped` if it has `skipped`, else `success`. Its suite is the enclosing
 *   `<testsuite name>` (else the job's suite name). An empty `<testcase/>` is no test case.
 * - Test cases are unique per status by `<suite>_<classname>_<name>`: a repeated case counts once.
 * - An element with non-blank text becomes that text in GitLab's hash, so a `<testsuite>` with
 *   stray text holds no cases, and such a `<testcase>` fails the parse (`string not matched`).
 * - Any parse problem sets the suite's error and its counts become 0: `JUnit XML parsing failed:
 *   <line:col: FATAL: msg>` for XML that is not well-formed, `JUnit data parsing failed: <msg>`
 *   for the rest (over 30 MB, `type="yaml"`/`"symbol"`, too many test cases). A blank file is no
 *   error and holds nothing.
 * - Time: the root `<testsuites time>`, else the sum of the top-level suites' `time`, else the
 *   sum of their direct test cases' `time`, else the sum over all cases (Ruby's String#to_f).
 *
 * Not emulated: ActiveSupport's typecasting by `type="integer|date|array|..."` attributes.
 * Safety: see xml-document.ts (no DTD, no entity expansion, bounded depth and size).
 */
import { BerthError } from '../shared/errors.js';
import { decodeXmlBytes, parseXmlDocument, XmlSyntaxError, type XmlElement } from './xml-document.js';

/** GitLab's Gitlab::MAX_XML_SIZE (lib/gitlab/xml_converter.rb): 30 MB, bytes of one file. */
export const JUNIT_MAX_XML_BYTES = 30 * 1024 * 1024;

/** How many failed test cases a summary keeps. */
export const JUNIT_MAX_FAILED_LISTED = 50;

export interface JunitFailedCase {
  suite: string;
  classname: string;
  name: string;
  status: 'failed' | 'error';
  /** The failure's `message` attribute, else the first line of its text ('' if neither). */
  message: string;
}

export interface JunitSummary {
  /** Unique test cases of all statuses (0 when `suiteError` is set, as in GitLab). */
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  timeSeconds: number;
  /** The first JUNIT_MAX_FAILED_LISTED failed or errored test cases, in document order. */
  failed: JunitFailedCase[];
  /** GitLab's suite error (`JUnit XML parsing failed: ...`), or null. */
  suiteError: string | null;
}

export interface JunitParseOptions {
  /** The suite name of test cases outside a named `<testsuite>` (GitLab: the job's test suite name). */
  suiteName?: string;
  /** GitLab's plan limit ci_max_test_cases_per_report, per file; 0 (the default) is unlimited. */
  maxTestCases?: number;
}

type Status = 'success' | 'failed' | 'error' | 'skipped';

/** A problem GitLab reports as `JUnit data parsing failed: ...`. */
class JunitDataError extends BerthError {
  constructor(message: string) {
    super('junit_report_invalid', message);
  }
}

const DISALLOWED_TYPES = new Set(['symbol', 'yaml']);

/** Ruby's String#to_f: the leading number, else 0. */
function rubyToF(s: string | undefined): number {
  if (s === undefined) return 0;
  const m = /^\s*([+-]?(?:\d+(?:_\d+)*)?(?:\.\d+(?:_\d+)*)?(?:[eE][+-]?\d+)?)/.exec(s);
  const n = parseFloat((m?.[1] ?? '').replace(/_/g, ''));
  return Number.isFinite(n) ? n : 0;
}

/** Ruby's blank? for a string. */
function rubyBlank(s: string): boolean {
  return /^[\s\u0085]*$/u.test(s) && !s.includes('\ufeff');
}

type Kind = 'nil' | 'string' | 'hash';

/**
 * What ActiveSupport's XMLConverter turns an element into (core_ext/hash/conversions.rb
 * process_hash): non-blank text → a string; `type="string"` → ''; nothing, `nil="true"` or only a
 * `type` → nil; else a hash of attributes and children. `type="symbol"`/`"yaml"` is refused.
 */
function kindOf(el: XmlElement): Kind {
  const type = el.attrs.get('type');
  if (type !== undefined && DISALLOWED_TYPES.has(type)) throw new JunitDataError(`Disallowed type attribute: ${JSON.stringify(type)}`);
  const keys = new Set([...el.attrs.keys(), ...el.children.map((c) => c.name.replace(/-/g, '_'))]);
  const content = el.text;
  if (content !== '' && (keys.size === 0 || !rubyBlank(content))) return 'string';
  if (type === 'string' && el.attrs.get('nil') !== 'true') return 'string';
  const size = keys.size + (content === '' ? 0 : 1);
  if (size === 0 || el.attrs.get('nil') === 'true') return 'nil';
  if (type !== undefined && size === 1) return 'nil';
  return 'hash';
}

/** XMLConverter#to_h runs over the whole tree before GitLab walks it: refuse disallowed types. */
function convertAll(el: XmlElement): void {
  if (kindOf(el) === 'hash') for (const c of el.children) convertAll(c);
}

function has(el: XmlElement, key: string): boolean {
  return el.attrs.has(key) || el.children.some((c) => c.name.replace(/-/g, '_') === key);
}

/** A field of a hash-kind element: its attribute, else a text child of that name. */
function field(el: XmlElement, key: string): string | undefined {
  const attr = el.attrs.get(key);
  if (attr !== undefined) return attr;
  const child = el.children.find((c) => c.name === key);
  return child !== undefined && kindOf(child) === 'string' ? child.text : undefined;
}

function firstLine(s: string): string {
  return (
    s
      .split('\n')
      .map((l) => l.trim())
      .find((l) => l !== '') ?? ''
  );
}

function failureMessage(tc: XmlElement, status: 'failed' | 'error'): string {
  const el = tc.children.find((c) => c.name === (status === 'failed' ? 'failure' : 'error'));
  const attr = el?.attrs.get('message') ?? tc.attrs.get(status === 'failed' ? 'failure' : 'error');
  return firstLine(attr ?? el?.text ?? '');
}

/** The running state of one job's test suite over the files of its report. */
class SuiteState {
  readonly cases: Record<Status, Set<string>> = { success: new Set(), failed: new Set(), error: new Set(), skipped: new Set() };
  readonly failed: JunitFailedCase[] = [];
  totalTime = 0;
  suiteError: string | null = null;

  constructor(
    readonly suiteName: string,
    readonly maxTestCases: number,
  ) {}

  summary(): JunitSummary {
    const n = (s: Status): number => (this.suiteError === null ? this.cases[s].size : 0);
    return {
      tests: n('success') + n('failed') + n('error') + n('skipped'),
      failures: n('failed'),
      errors: n('error'),
      skipped: n('skipped'),
      timeSeconds: Math.round(this.totalTime * 1e6) / 1e6,
      failed: this.suiteError === null ? this.failed : [],
      suiteError: this.suiteError,
    };
  }

  /** One file (gzip member) of the report: Gitlab::Ci::Parsers::Test::Junit#parse!. */
  parse(xml: Buffer | string): void {
    try {
      const size = typeof xml === 'string' ? Buffer.byteLength(xml) : xml.length;
      if (size > JUNIT_MAX_XML_BYTES) throw new JunitDataError('The XML file must be less than 30 MB.');
      const root = parseXmlDocument(typeof xml === 'string' ? xml : decodeXmlBytes(xml));
      if (root === null) return;
      convertAll(root);
      let parsed = 0;
      const add = (tc: XmlElement, suite: string | undefined): void => {
        this.addCase(tc, suite ?? this.suiteName);
        parsed++;
        if (this.maxTestCases > 0 && parsed > this.maxTestCases) {
          throw new JunitDataError(`number of test cases exceeded the limit of ${this.maxTestCases}`);
        }
      };
      if (root.name === 'testsuites' || root.name === 'testsuite') this.walk(root, add);
      this.setTotalTime(root);
    } catch (err) {
      if (err instanceof XmlSyntaxError) this.suiteError = `JUnit XML parsing failed: ${err.message}`;
      else if (err instanceof JunitDataError) this.suiteError = `JUnit data parsing failed: ${err.message}`;
      else throw err;
    }
  }

  /** all_cases/each_case for one container (hash-kind `<testsuites>` root or `<testsuite>`). */
  private walk(container: XmlElement, add: (tc: XmlElement, suite: string | undefined) => void): void {
    if (kindOf(container) !== 'hash') return;
    const suite = field(container, 'name');
    for (const tc of container.children.filter((c) => c.name === 'testcase')) {
      const kind = kindOf(tc);
      if (kind === 'nil') continue;
      // GitLab sets tc['suite_name'] on the converted value; on a string that is String#[]=.
      if (kind === 'string') throw new JunitDataError('string not matched');
      add(tc, suite);
    }
    for (const child of container.children) if (child.name === 'testsuite') this.walk(child, add);
  }

  private addCase(tc: XmlElement, suite: string): void {
    const status: Status = has(tc, 'failure') ? 'failed' : has(tc, 'error') ? 'error' : has(tc, 'skipped') ? 'skipped' : 'success';
    const classname = field(tc, 'classname') ?? '';
    const name = field(tc, 'name') ?? '';
    const key = `${suite}_${classname}_${name}`;
    this.totalTime += rubyToF(field(tc, 'time'));
    const seen = this.cases[status];
    if (seen.has(key)) return;
    seen.add(key);
    if ((status === 'failed' || status === 'error') && this.failed.length < JUNIT_MAX_FAILED_LISTED) {
      this.failed.push({ suite, classname, name, status, message: failureMessage(tc, status) });
    }
  }

  /** set_total_time_from_xml: it replaces the time summed so far when it finds one. */
  private setTotalTime(root: XmlElement): void {
    const rootKind = kindOf(root);
    if (root.name === 'testsuites' && rootKind === 'hash' && field(root, 'time') !== undefined) {
      this.totalTime = rubyToF(field(root, 'time'));
      return;
    }
    const suites: XmlElement[] = [];
    if (root.name === 'testsuites' && rootKind === 'hash') suites.push(...root.children.filter((c) => c.name === 'testsuite'));
    if (root.name === 'testsuite') suites.push(root);
    const hashSuites = suites.filter((s) => kindOf(s) === 'hash');
    let total = hashSuites.reduce((sum, s) => sum + rubyToF(field(s, 'time')), 0);
    if (total === 0) {
      for (const s of hashSuites) {
        const cases = s.children.filter((c) => c.name === 'testcase');
        // Array.wrap(suite['testcase']).sum { |tc| tc['time'] ... }: an empty <testcase/> among
        // several is nil in the array, and nil['time'] raises in GitLab.
        if (cases.length > 1 && cases.some((c) => kindOf(c) === 'nil')) throw new JunitDataError("undefined method `[]' for nil");
        for (const c of cases) if (kindOf(c) === 'hash') total += rubyToF(field(c, 'time'));
      }
    }
    if (total > 0) this.totalTime = total;
  }
}

/**
 * The summary of one job's JUnit report given as its files' contents (the gzip members, see
 * readGzipMembers), in GitLab's order: test cases are unique over all files of the job, and a
 * failing file sets the job's suite error (the last one wins).
 */
export function parseJunitReports(files: readonly (Buffer | string)[], source: string, opts: JunitParseOptions = {}): JunitSummary {
  const state = new SuiteState(opts.suiteName ?? source, opts.maxTestCases ?? 0);
  for (const f of files) state.parse(f);
  return state.summary();
}

/** The summary of one JUnit XML file; `source` names the job (the suite name of unnamed suites). */
export function parseJunitReport(xml: Buffer | string, source: string, opts: JunitParseOptions = {}): JunitSummary {
  return parseJunitReports([xml], source, opts);
}

/** Sums summaries (several jobs or reports): counts and times add up, failed lists are concatenated. */
export function mergeJunitSummaries(list: readonly JunitSummary[]): JunitSummary {
  const errors = list.map((s) => s.suiteError).filter((e): e is string => e !== null);
  return {
    tests: list.reduce((n, s) => n + s.tests, 0),
    failures: list.reduce((n, s) => n + s.failures, 0),
    errors: list.reduce((n, s) => n + s.errors, 0),
    skipped: list.reduce((n, s) => n + s.skipped, 0),
    timeSeconds: Math.round(list.reduce((n, s) => n + s.timeSeconds, 0) * 1e6) / 1e6,
    failed: list.flatMap((s) => s.failed).slice(0, JUNIT_MAX_FAILED_LISTED),
    suiteError: errors.length === 0 ? null : errors.join('; '),
  };
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** One line of terminal text: no control characters (a test name must not move the cursor). */
function oneLine(s: string, max = 200): string {
  // eslint-disable-next-line no-control-regex -- removing control characters is the point
  const clean = s.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
  return clean.length > max ? `${clean.slice(0, max - 1)}…` : clean;
}

/**
 * Lines for a terminal summary, per job: `rspec: 120 tests, 2 failed, 1 error, 3 skipped`, then
 * one line per listed failed test case (`  failed: <classname> <name>: <message>`), then
 * `  ... and N more` when not all are listed. A suite error replaces the counts.
 */
export function formatJunitSummary(perJob: readonly { job: string; summary: JunitSummary }[]): string[] {
  const lines: string[] = [];
  for (const { job, summary: s } of perJob) {
    if (s.suiteError !== null) {
      lines.push(`${oneLine(job)}: ${oneLine(s.suiteError, 500)}`);
      continue;
    }
    lines.push(
      `${oneLine(job)}: ${plural(s.tests, 'test', 'tests')}, ${s.failures} failed, ${plural(s.errors, 'error', 'errors')}, ${s.skipped} skipped`,
    );
    for (const f of s.failed) {
      const title = f.classname === '' || f.name.startsWith(f.classname) ? f.name : `${f.classname} ${f.name}`;
      lines.push(`  ${f.status}: ${oneLine(title)}${f.message === '' ? '' : `: ${oneLine(f.message)}`}`);
    }
    const more = s.failures + s.errors - s.failed.length;
    if (more > 0) lines.push(`  ... and ${more} more`);
  }
  return lines;
}
