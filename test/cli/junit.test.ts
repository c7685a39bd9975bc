import { CHECK_NAMES } from '../../src/scenario/schema.js';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { junitCases, junitXml } from '../../src/check/junit.js';
import { main } from '../../src/cli/main.js';
import { wellFormedXml } from './xml.js';

const dir = mkdtempSync(join(tmpdir(), 'kafkaesque-junit-'));
const CHECKS = ['lost-write', 'log-matching', 'strong-isr'];

describe('JUnit XML', () => {
  it('the well-formedness check itself refuses broken XML', () => {
    expect(wellFormedXml('<a><b/></a>')).toBe(true);
    expect(wellFormedXml('<a><b></a>')).toBe(false);
    expect(wellFormedXml('<a>x & y</a>')).toBe(false);
    expect(wellFormedXml('<a x="1"/><b/>')).toBe(false);
    expect(wellFormedXml('<a x="<"/>')).toBe(false);
    expect(wellFormedXml('<a>\u0001</a>')).toBe(false);
  });

  it('one test case per check; a case fails when the finding differs from expect:', () => {
    const cases = junitCases({ scenario: 's', seed: 3, expected: ['log-matching'], found: new Map([['lost-write', { count: 2, message: 'gone' }]]) }, CHECKS);
    expect(cases.map((c) => [c.name, c.failure?.message])).toEqual([
      ['lost-write', 'lost-write ×2: gone'],
      ['log-matching', 'expected log-matching, found none'],
      ['strong-isr', undefined],
    ]);
    const xml = junitXml('s', cases);
    expect(wellFormedXml(xml)).toBe(true);
    expect(xml).toMatch(/<testsuites name="kafkaesque" tests="3" failures="2"/);
  });

  it('stays well-formed whatever the scenario name and messages hold', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), (name, message, details) => {
        const cases = junitCases({ scenario: name, seed: name, expected: [], found: new Map([['lost-write', { count: 1, message }]]), details }, CHECKS);
        const xml = junitXml(name, cases, { [name]: message });
        expect(wellFormedXml(xml)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('run --junit writes one test case per check', () => {
    const p = join(dir, 'lossy.yaml');
    writeFileSync(p, 'name: "lossy <&>"\nduration: 40s\ncluster: { brokers: 2 }\nfaults: [{ at: 39s, power-loss: all-brokers, for: 500ms }]\nexpect: []\n');
    const junit = join(dir, 'out', 'run.xml');
    expect(main(['run', p, '--junit', junit], () => undefined, () => undefined)).toBe(1);
    const xml = readFileSync(junit, 'utf8');
    expect(wellFormedXml(xml)).toBe(true);
    expect(xml.match(/<testcase /g)).toHaveLength(CHECK_NAMES.length);
    expect(xml).toMatch(/<testcase classname="lossy &lt;&amp;&gt;\.seed-1" name="lost-write" time="[\d.]+">\n\s+<failure type="lost-write" message="lost-write ×\d+: /);
    expect(xml.match(/<failure /g)).toHaveLength(1);
  });
});
