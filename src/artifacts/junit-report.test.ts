import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readGzipMembers } from './gzip-members.js';
import {
  formatJunitSummary,
  JUNIT_MAX_FAILED_LISTED,
  mergeJunitSummaries,
  parseJunitReport,
  parseJunitReports,
  type JunitSummary,
} from './junit-report.js';

// pytest --junitxml (pytest ≥ 5.1: a <testsuites> root around one <testsuite name="pytest">)
const PYTEST = `<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" errors="1" failures="1" skipped="1" tests="5" time="0.321" timestamp="2026-01-01T00:00:00" hostname="ci">
<testcase classname="tests.test_math" name="test_add" time="0.001" />
<testcase classname="tests.test_math" name="test_div" time="0.002"><failure message="ZeroDivisionError: division by zero">def test_div():
&gt;       1 / 0
E       ZeroDivisionError: division by zero

tests/test_math.py:7: ZeroDivisionError</failure></testcase>
<testcase classname="tests.test_math" name="test_skip" time="0.000"><skipped type="pytest.skip" message="not on linux">tests/test_math.py:10: not on linux</skipped></testcase>
<testcase classname="tests.test_io" name="test_fixture" time="0.010"><error message="failed on setup with &quot;OSError&quot;">fixture 'tmp' not found</error></testcase>
<testcase classname="tests.test_io" name="test_read" time="0.300"><system-out>reading</system-out></testcase>
</testsuite></testsuites>`;

// jest-junit defaults: classname and name are both "{classname} {title}"
const JEST = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="jest tests" tests="4" failures="1" errors="0" time="2.5">
  <testsuite name="Calculator" errors="0" failures="1" skipped="1" timestamp="2026-01-01T00:00:00" time="1.2" tests="3">
    <testcase classname="Calculator adds" name="Calculator adds" time="0.004">
    </testcase>
    <testcase classname="Calculator subtracts" name="Calculator subtracts" time="0.003">
      <failure>Error: expect(received).toBe(expected) // Object.is equality

Expected: 1
Received: 2
    at Object.&lt;anonymous&gt; (/builds/app/calc.test.js:9:23)</failure>
    </testcase>
    <testcase classname="Calculator divides" name="Calculator divides" time="0">
      <skipped/>
    </testcase>
  </testsuite>
  <testsuite name="Parser" errors="0" failures="0" skipped="0" time="1.3" tests="1">
    <testcase classname="Parser parses" name="Parser parses" time="1.3"/>
  </testsuite>
</testsuites>`;

// Maven Surefire TEST-*.xml: a <testsuite> root with properties, typed failures, flaky reruns
const SUREFIRE = `<?xml version="1.0" encoding="UTF-8"?>
<testsuite xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" version="3.0" name="com.example.AppTest" time="0.052" tests="4" errors="0" skipped="1" failures="1">
  <properties>
    <property name="java.version" value="21"/>
    <property name="os.name" value="Linux"/>
  </properties>
  <testcase name="testApp" classname="com.example.AppTest" time="0.005"/>
  <testcase name="testFails" classname="com.example.AppTest" time="0.011">
    <failure message="expected: &lt;1&gt; but was: &lt;2&gt;" type="org.opentest4j.AssertionFailedError"><![CDATA[org.opentest4j.AssertionFailedError: expected: <1> but was: <2>
	at com.example.AppTest.testFails(AppTest.java:20)]]></failure>
    <system-out><![CDATA[some output]]></system-out>
  </testcase>
  <testcase name="testFlaky" classname="com.example.AppTest" time="0.020">
    <flakyFailure message="timeout" type="java.util.concurrent.TimeoutException"><stackTrace>...</stackTrace></flakyFailure>
  </testcase>
  <testcase name="testSkipped" classname="com.example.AppTest" time="0">
    <skipped message="@Disabled"/>
  </testcase>
</testsuite>`;

// PHPUnit: nested testsuites
const PHPUNIT = `<?xml version="1.0" encoding="UTF-8"?>
<testsuites>
  <testsuite name="Project Test Suite" tests="3" time="1.5">
    <testsuite name="Tests\\Unit\\UserTest" file="/app/tests/Unit/UserTest.php" tests="2" time="1.0">
      <testcase name="testName" class="Tests\\Unit\\UserTest" classname="Tests.Unit.UserTest" file="/app/tests/Unit/UserTest.php" line="9" assertions="1" time="0.5"/>
      <testcase name="testEmail" class="Tests\\Unit\\UserTest" classname="Tests.Unit.UserTest" time="0.5">
        <error type="TypeError">TypeError: bad</error>
      </testcase>
    </testsuite>
    <testsuite name="Tests\\Unit\\OrderTest" tests="1" time="0.5">
      <testsuite name="Tests\\Unit\\OrderTest::testTotal" tests="1">
        <testcase name="testTotal with data set #0" classname="Tests.Unit.OrderTest" time="0.5"/>
      </testsuite>
    </testsuite>
  </testsuite>
</testsuites>`;

function counts(s: JunitSummary): [number, number, number, number] {
  return [s.tests, s.failures, s.errors, s.skipped];
}

describe('parseJunitReport: real-world formats', () => {
  it('counts a pytest report', () => {
    const s = parseJunitReport(PYTEST, 'pytest-job');
    expect(counts(s)).toEqual([5, 1, 1, 1]);
    expect(s.suiteError).toBeNull();
    expect(s.timeSeconds).toBe(0.321);
    expect(s.failed).toEqual([
      { suite: 'pytest', classname: 'tests.test_math', name: 'test_div', status: 'failed', message: 'ZeroDivisionError: division by zero' },
      { suite: 'pytest', classname: 'tests.test_io', name: 'test_fixture', status: 'error', message: 'failed on setup with "OSError"' },
    ]);
  });

  it('counts a jest-junit report and takes <testsuites time>', () => {
    const s = parseJunitReport(JEST, 'jest');
    expect(counts(s)).toEqual([4, 1, 0, 1]);
    expect(s.timeSeconds).toBe(2.5);
    expect(s.failed).toEqual([
      {
        suite: 'Calculator',
        classname: 'Calculator subtracts',
        name: 'Calculator subtracts',
        status: 'failed',
        message: 'Error: expect(received).toBe(expected) // Object.is equality',
      },
    ]);
  });

  it('counts a Surefire report: a flakyFailure alone is a success', () => {
    const s = parseJunitReport(Buffer.from(SUREFIRE), 'mvn');
    expect(counts(s)).toEqual([4, 1, 0, 1]);
    expect(s.timeSeconds).toBe(0.052);
    expect(s.failed[0]).toEqual({
      suite: 'com.example.AppTest',
      classname: 'com.example.AppTest',
      name: 'testFails',
      status: 'failed',
      message: 'expected: <1> but was: <2>',
    });
  });

  it('walks nested PHPUnit suites; the innermost suite names the case', () => {
    const s = parseJunitReport(PHPUNIT, 'phpunit');
    expect(counts(s)).toEqual([3, 0, 1, 0]);
    expect(s.failed).toEqual([
      { suite: 'Tests\\Unit\\UserTest', classname: 'Tests.Unit.UserTest', name: 'testEmail', status: 'error', message: 'TypeError: bad' },
    ]);
    expect(s.timeSeconds).toBe(1.5);
  });
});

describe('parseJunitReport: GitLab rules', () => {
  it('treats a blank file as empty, without an error', () => {
    for (const xml of ['', '  \n', Buffer.alloc(0)]) {
      expect(parseJunitReport(xml, 'j')).toEqual({ tests: 0, failures: 0, errors: 0, skipped: 0, timeSeconds: 0, failed: [], suiteError: null });
    }
  });

  it.each([
    ['<testsuite></testsuite>'],
    ['<testsuites><testsuite /></testsuites>'],
    ['<?xml version="1.0" encoding="utf-8"?>\n<testsuites>\n</testsuites>\n'],
    ['<results><testsuite><testcase name="a"/></testsuite></results>'],
    ['<testsuites><testsuites><testsuite><testcase name="deep"/></testsuite></testsuites></testsuites>'],
  ])('finds no test case in %j', (xml) => {
    const s = parseJunitReport(xml, 'j');
    expect(s.tests).toBe(0);
    expect(s.suiteError).toBeNull();
  });

  it('reads element names without their namespace prefix, as Nokogiri names them', () => {
    const xml = '<j:testsuites xmlns:j="urn:junit"><j:testsuite name="s"><j:testcase name="a"><j:failure/></j:testcase></j:testsuite></j:testsuites>';
    expect(counts(parseJunitReport(xml, 'j'))).toEqual([1, 1, 0, 0]);
  });

  it('counts test cases directly under <testsuites>', () => {
    expect(parseJunitReport('<testsuites name="top"><testcase name="a"/><testcase name="b"><failure/></testcase></testsuites>', 'j').failed).toEqual([
      { suite: 'top', classname: '', name: 'b', status: 'failed', message: '' },
    ]);
  });

  it('picks the status failure > error > skipped, by presence only', () => {
    const xml = `<testsuite name="s">
      <testcase name="f"><skipped/><error/><failure></failure></testcase>
      <testcase name="e"><skipped>why</skipped><error message="boom"/></testcase>
      <testcase name="k"><skipped></skipped></testcase>
      <testcase name="ok"><foo>Some foo</foo></testcase>
      <testcase name="attr" failure="x"/>
    </testsuite>`;
    const s = parseJunitReport(xml, 'j');
    expect(counts(s)).toEqual([5, 2, 1, 1]);
    expect(s.failed.map((f) => [f.name, f.status, f.message])).toEqual([
      ['f', 'failed', ''],
      ['e', 'error', 'boom'],
      ['attr', 'failed', 'x'],
    ]);
  });

  it('counts a repeated case once per status, keyed by suite, classname and name', () => {
    const xml = `<testsuites>
      <testsuite><testcase classname="C" name="t1"/><testcase classname="C" name="t2"><failure/></testcase></testsuite>
      <testsuite><testcase classname="C" name="t1"/><testcase classname="C" name="t2"><failure/></testcase></testsuite>
      <testsuite name="other"><testcase classname="C" name="t1"/></testsuite>
      <testsuite><testcase classname="C" name="t1"><skipped/></testcase></testsuite>
    </testsuites>`;
    const s = parseJunitReport(xml, 'rspec');
    expect(counts(s)).toEqual([4, 1, 0, 1]);
    expect(s.failed).toHaveLength(1);
    expect(s.failed[0]!.suite).toBe('rspec');
  });

  it('uses the suite name option for unnamed suites', () => {
    const s = parseJunitReport('<testsuite><testcase name="t"><failure/></testcase></testsuite>', 'file.xml', { suiteName: 'rspec' });
    expect(s.failed[0]!.suite).toBe('rspec');
  });

  it('skips an empty <testcase/> and a suite that holds stray text, fails on a text-only testcase', () => {
    expect(parseJunitReport('<testsuite name="s"><testcase/><testcase name="a"/></testsuite>', 'j').suiteError).toBe(
      "JUnit data parsing failed: undefined method `[]' for nil",
    );
    expect(parseJunitReport('<testsuite name="s"><testcase/></testsuite>', 'j').tests).toBe(0);
    expect(parseJunitReport('<testsuites><testsuite name="s">stray<testcase name="a"/></testsuite></testsuites>', 'j').tests).toBe(0);
    expect(parseJunitReport('<testsuite name="s"><testcase>text</testcase></testsuite>', 'j').suiteError).toBe(
      'JUnit data parsing failed: string not matched',
    );
  });

  describe('time (set_total_time_from_xml)', () => {
    it.each([
      ['<testsuites><testsuite time="6.15"><testcase name="test"/></testsuite></testsuites>', 6.15],
      ['<testsuites time="1.5"><testsuite time="6.5"><testcase name="test"/></testsuite></testsuites>', 1.5],
      ['<testsuite time="6.66"><testcase time="2.0" name="x"/></testsuite>', 6.66],
      ['<testsuites><testsuite><testcase name="test1" time="1.02"/><testcase name="test2" time="2.08"/></testsuite></testsuites>', 3.1],
      ['<testsuites><testsuite><testcase name="test"/></testsuite></testsuites>', 0],
      ['<testsuites><testsuite time="7.02"><testcase name="a"/></testsuite><testsuite time="6.66"><testcase name="b"/></testsuite></testsuites>', 13.68],
      ['<testsuites time="abc"><testsuite time="3"><testcase name="a"/></testsuite></testsuites>', 0],
      ['<testsuites><testsuite time="1_000.5s"><testcase name="a"/></testsuite></testsuites>', 1000.5],
      ['<testsuites><testsuite><testsuite time="9"><testcase name="a" time="2"/></testsuite></testsuite></testsuites>', 2],
    ])('%s → %s s', (xml, want) => {
      expect(parseJunitReport(xml, 'j').timeSeconds).toBe(want);
    });
  });

  it('limits the number of test cases per file when asked to', () => {
    const xml = '<testsuites><testsuite><testcase name="a"/><testcase name="b"/></testsuite><testsuite><testcase name="a"/><testcase name="b"/></testsuite></testsuites>';
    expect(parseJunitReport(xml, 'j', { maxTestCases: 1 })).toMatchObject({
      tests: 0,
      suiteError: 'JUnit data parsing failed: number of test cases exceeded the limit of 1',
    });
    expect(parseJunitReport(xml, 'j', { maxTestCases: 4 }).tests).toBe(2);
  });

  it('refuses ActiveSupport disallowed types', () => {
    expect(parseJunitReport('<testsuite><testcase name="a"><failure type="yaml" message="x"/></testcase></testsuite>', 'j').suiteError).toBe(
      'JUnit data parsing failed: Disallowed type attribute: "yaml"',
    );
  });

  it('lists at most 50 failed cases but counts them all', () => {
    const cases = Array.from({ length: 60 }, (_, i) => `<testcase classname="C" name="t${i}"><failure message="m${i}"/></testcase>`).join('');
    const s = parseJunitReport(`<testsuite name="s">${cases}</testsuite>`, 'j');
    expect(s.failures).toBe(60);
    expect(s.failed).toHaveLength(JUNIT_MAX_FAILED_LISTED);
    expect(s.failed[49]!.name).toBe('t49');
  });

  it('reads UTF-16 with a BOM and a declared Latin-1 encoding', () => {
    const xml = '<testsuite name="ü"><testcase name="grüße"><failure message="ß"/></testcase></testsuite>';
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(xml, 'utf16le')]);
    expect(parseJunitReport(utf16, 'j').failed[0]).toMatchObject({ suite: 'ü', name: 'grüße', message: 'ß' });
    const latin1 = Buffer.from(`<?xml version="1.0" encoding="ISO-8859-1"?>${xml}`, 'latin1');
    expect(parseJunitReport(latin1, 'j').failed[0]).toMatchObject({ suite: 'ü', name: 'grüße' });
    expect(parseJunitReport(Buffer.from([...Buffer.from('<testsuite name="'), 0xe9, ...Buffer.from('"/>')]), 'j').suiteError).toBe(
      'JUnit XML parsing failed: Input is not proper UTF-8, indicate encoding !',
    );
  });
});

describe('parseJunitReport: malformed and hostile input', () => {
  it.each([
    ['an unclosed tag', '<testsuite>\n  <testcase classname="C" name="a"></testcase>\n  <testcase classname="C" name="b"></testcase\n</testsuite>\n'],
    ['mismatched tags', '<testsuites><testsuite></testsuites>'],
    ['plain text', 'hello'],
    ['JSON', '{"testsuite":"abc"}'],
    ['two roots', '<testsuite/><testsuite/>'],
    ['a repeated attribute', '<testsuite name="a" name="b"/>'],
    ['an undefined entity', '<testsuite name="&nbsp;"><testcase name="a"/></testsuite>'],
    ['a bare ampersand', '<testsuite><testcase name="a & b"/></testsuite>'],
  ])('reports %s as a suite error with zero counts', (_what, xml) => {
    const s = parseJunitReport(xml, 'j');
    expect(s.suiteError).toMatch(/^JUnit XML parsing failed: \S/);
    expect(counts(s)).toEqual([0, 0, 0, 0]);
    expect(s.failed).toEqual([]);
  });

  it('names line and column like libxml2 does', () => {
    expect(parseJunitReport('<testsuites>\n<testsuite>\n</testsuites>', 'j').suiteError).toMatch(/^JUnit XML parsing failed: 3:\d+: FATAL: /);
  });

  it('refuses a DTD: a billion-laughs entity bomb is never expanded', () => {
    const bomb = `<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<testsuite name="&lol9;"><testcase name="a"/></testsuite>`;
    const started = Date.now();
    const s = parseJunitReport(bomb, 'j');
    expect(Date.now() - started).toBeLessThan(1000);
    expect(s.suiteError).toBe(
      'JUnit XML parsing failed: DOCTYPE is not allowed: berth reads report files without a DTD; remove the <!DOCTYPE> declaration',
    );
  });

  it('refuses an external entity (XXE) declaration', () => {
    const xxe = '<!-- x --><!DOCTYPE t [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><testsuite name="&xxe;"/>';
    expect(parseJunitReport(xxe, 'j').suiteError).toMatch(/DOCTYPE is not allowed/);
  });

  it('decodes only predefined entities and character references', () => {
    const s = parseJunitReport('<testsuite name="&lt;&amp;&gt;&quot;&apos;&#65;&#x42;"><testcase name="t"><failure/></testcase></testsuite>', 'j');
    expect(s.failed[0]!.suite).toBe('<&>"\'AB');
  });

  it('refuses a file over 30 MB before parsing it', () => {
    const big = Buffer.alloc(30 * 1024 * 1024 + 1, 0x20);
    expect(parseJunitReport(big, 'j').suiteError).toBe('JUnit data parsing failed: The XML file must be less than 30 MB.');
  });

  it('refuses absurd nesting', () => {
    const deep = '<testsuite>'.repeat(3000) + '</testsuite>'.repeat(3000);
    expect(parseJunitReport(deep, 'j').suiteError).toMatch(/^JUnit XML parsing failed: /);
  });
});

describe('parseJunitReports: the files of one job (gzip members)', () => {
  it('dedupes across files and keeps the last file error', async () => {
    const a = '<testsuite name="s"><testcase classname="C" name="t"><failure/></testcase></testsuite>';
    const b = '<testsuite name="s"><testcase classname="C" name="t"><failure/></testcase><testcase classname="C" name="u"/></testsuite>';
    const gz = Buffer.concat([gzipSync(a), gzipSync(b)]);
    const members = await readGzipMembers(gz, { maxUncompressedBytes: 30 * 1024 * 1024 });
    expect(counts(parseJunitReports(members, 'rspec'))).toEqual([2, 1, 0, 0]);
    const withBad = parseJunitReports([a, '<broken', b], 'rspec');
    expect(withBad.suiteError).toMatch(/^JUnit XML parsing failed/);
    expect(withBad.tests).toBe(0);
  });

  it('keeps GitLab’s time: a file with suite times replaces the time summed so far', () => {
    const timed = '<testsuite time="5"><testcase name="a" time="1"/></testsuite>';
    const untimed = '<testsuites><testsuite><testcase name="b"/></testsuite></testsuites>';
    expect(parseJunitReports([untimed, timed], 'j').timeSeconds).toBe(5);
    expect(parseJunitReports(['<testsuite><testcase name="a" time="2"/></testsuite>', '<testsuite><testcase name="b" time="3"/></testsuite>'], 'j').timeSeconds).toBe(3);
  });
});

describe('mergeJunitSummaries and formatJunitSummary', () => {
  const rspec = parseJunitReport(PYTEST, 'rspec');
  const jest = parseJunitReport(JEST, 'jest');
  const broken = parseJunitReport('<testsuite>', 'lint');

  it('adds summaries up', () => {
    const m = mergeJunitSummaries([rspec, jest, broken]);
    expect(counts(m)).toEqual([9, 2, 1, 2]);
    expect(m.timeSeconds).toBe(2.821);
    expect(m.failed.map((f) => f.name)).toEqual(['test_div', 'test_fixture', 'Calculator subtracts']);
    expect(m.suiteError).toMatch(/^JUnit XML parsing failed/);
    expect(mergeJunitSummaries([])).toEqual({ tests: 0, failures: 0, errors: 0, skipped: 0, timeSeconds: 0, failed: [], suiteError: null });
  });

  it('prints one line per job and one per failed test', () => {
    const many = parseJunitReport(
      `<testsuite name="s">${Array.from({ length: 52 }, (_, i) => `<testcase name="t${i}"><failure message="boom&#10;second line"/></testcase>`).join('')}</testsuite>`,
      'many',
    );
    const lines = formatJunitSummary([
      { job: 'pytest', summary: rspec },
      { job: 'jest', summary: jest },
      { job: 'lint', summary: broken },
      { job: 'one', summary: parseJunitReport('<testsuite><testcase name="a"><error/></testcase></testsuite>', 'one') },
      { job: 'many', summary: many },
    ]);
    expect(lines.slice(0, 8)).toEqual([
      'pytest: 5 tests, 1 failed, 1 error, 1 skipped',
      '  failed: tests.test_math test_div: ZeroDivisionError: division by zero',
      '  error: tests.test_io test_fixture: failed on setup with "OSError"',
      'jest: 4 tests, 1 failed, 0 errors, 1 skipped',
      '  failed: Calculator subtracts: Error: expect(received).toBe(expected) // Object.is equality',
      expect.stringMatching(/^lint: JUnit XML parsing failed: /),
      'one: 1 test, 0 failed, 1 error, 0 skipped',
      '  error: a',
    ]);
    expect(lines[8]).toBe('many: 52 tests, 52 failed, 0 errors, 0 skipped');
    expect(lines[9]).toBe('  failed: t0: boom');
    expect(lines.at(-1)).toBe('  ... and 2 more');
    expect(lines).toHaveLength(9 + 50 + 1);
  });

  it('keeps control characters of test names out of the terminal', () => {
    const s: JunitSummary = {
      ...mergeJunitSummaries([]),
      tests: 1,
      failures: 1,
      failed: [{ suite: 's', classname: '', name: 'evil\u001b[2J\rname', status: 'failed', message: 'a\u0007b' }],
    };
    expect(formatJunitSummary([{ job: 'j\nx', summary: s }])).toEqual(['j x: 1 test, 1 failed, 0 errors, 0 skipped', '  failed: evil [2J name: a b']);
  });
});
