/**
 * JUnit XML for CI dashboards (the de-facto schema Jenkins, GitLab and GitHub test reporters
 * read): one `<testsuite>` per scenario, one `<testcase>` per check per seed. A check's test case
 * fails when its outcome differs from the scenario's `expect:`: it found a violation that was not
 * expected, or did not find one that was.
 */

export interface JunitRun {
  /** The scenario's name. */
  scenario: string;
  seed: number | string;
  expected: readonly string[];
  /** Findings by check: how many, and the first one's message. */
  found: ReadonlyMap<string, { count: number; message: string }>;
  /** Wall time of the run, in seconds, for the `time` attributes. */
  seconds?: number;
  /** Extra text for each failure: a replay command, a fault schedule. */
  details?: string;
}

export interface JunitCase {
  classname: string;
  name: string;
  seconds: number;
  failure?: { type: string; message: string; text: string };
}

/** One test case per check, for one seed. */
export function junitCases(run: JunitRun, checks: readonly string[]): JunitCase[] {
  return checks.map((check) => {
    const found = run.found.get(check);
    const expected = run.expected.includes(check);
    const base = { classname: `${run.scenario}.seed-${run.seed}`, name: check, seconds: (run.seconds ?? 0) / Math.max(1, checks.length) };
    if (found !== undefined && !expected) {
      return { ...base, failure: { type: check, message: `${check} ×${found.count}: ${found.message}`, text: [`${check} found ${found.count} time(s); not in expect:`, found.message, run.details ?? ''].filter(Boolean).join('\n') } };
    }
    if (found === undefined && expected) {
      return { ...base, failure: { type: check, message: `expected ${check}, found none`, text: [`expect: lists ${check}, and this run found no ${check}`, run.details ?? ''].filter(Boolean).join('\n') } };
    }
    return base;
  });
}

/** A whole JUnit document: `<testsuites>` with one `<testsuite>` named `suite`. */
export function junitXml(suite: string, cases: readonly JunitCase[], properties: Record<string, string> = {}): string {
  const failures = cases.filter((c) => c.failure !== undefined).length;
  const total = cases.reduce((s, c) => s + c.seconds, 0);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="kafkaesque" tests="${cases.length}" failures="${failures}" errors="0" time="${total.toFixed(3)}">`,
    `  <testsuite name="${attr(suite)}" tests="${cases.length}" failures="${failures}" errors="0" skipped="0" time="${total.toFixed(3)}">`,
  ];
  const props = Object.entries(properties);
  if (props.length > 0) {
    lines.push('    <properties>');
    for (const [k, v] of props) lines.push(`      <property name="${attr(k)}" value="${attr(v)}"/>`);
    lines.push('    </properties>');
  }
  for (const c of cases) {
    const open = `    <testcase classname="${attr(c.classname)}" name="${attr(c.name)}" time="${c.seconds.toFixed(3)}"`;
    if (c.failure === undefined) {
      lines.push(`${open}/>`);
    } else {
      lines.push(`${open}>`);
      lines.push(`      <failure type="${attr(c.failure.type)}" message="${attr(c.failure.message)}">${text(c.failure.text)}</failure>`);
      lines.push('    </testcase>');
    }
  }
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}

/** Characters XML 1.0 forbids anywhere (control characters, lone surrogates, U+FFFE/F) are dropped. */
function clean(s: string): string {
  return s.replace(/[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '');
}

function text(s: string): string {
  return clean(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function attr(s: string): string {
  return text(s).replace(/"/g, '&quot;').replace(/'/g, '&apos;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;').replace(/\t/g, '&#9;');
}
