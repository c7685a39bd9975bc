import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { loadScenario } from '../../src/scenario/load.js';
import { ScenarioError } from '../../src/scenario/scenario-error.js';
import { parseDuration, formatDuration } from '../../src/scenario/duration.js';

const dir = mkdtempSync(join(tmpdir(), 'kafkaesque-load-'));
let n = 0;
function file(content: string | Buffer, ext = '.yaml'): string {
  const p = join(dir, `s${n++}${ext}`);
  writeFileSync(p, content);
  return p;
}

function problems(call: () => unknown): string[] {
  try {
    call();
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioError);
    return [...(e as ScenarioError).problems];
  }
  throw new Error('expected a ScenarioError');
}

const minimal = 'name: t\ncluster: { brokers: 3 }\n';

describe('durations', () => {
  it.each([
    ['250us', 250],
    ['500ms', 500_000],
    ['30s', 30_000_000],
    ['1.5s', 1_500_000],
    ['2m', 120_000_000],
    ['1h', 3_600_000_000],
  ])('parses %s', (text, us) => {
    expect(parseDuration(text)).toBe(us);
  });

  it.each(['30', '5 sec', '-1s', '1e3ms', '', 's'])('refuses %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('formats what it parses back to the same duration', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 }), (us) => {
        expect(parseDuration(formatDuration(us))).toBe(us);
      }),
    );
  });
});

describe('loadScenario', () => {
  it('loads YAML and JSON with durations in microseconds', () => {
    const y = loadScenario(file(`${minimal}duration: 20s\nfaults: [{ at: 3s, crash: 2, for: 500ms }]\n`));
    expect(y.duration).toBe(20_000_000);
    expect(y.faults).toEqual([{ at: 3_000_000, crash: 2, for: 500_000 }]);
    const j = loadScenario(file(JSON.stringify({ name: 'j', cluster: { brokers: 1 } }), '.json'));
    expect(j.cluster.brokers).toBe(1);
  });

  it('suggests the key that was meant', () => {
    const p = file('name: t\ncluster: { brokers: 3, confg: {} }\n');
    expect(problems(() => loadScenario(p))).toEqual([`${p}: at cluster.confg: unknown key "confg"; did you mean config?`]);
    const q = file(`${minimal.replace('brokers: 3', "brokers: 3, config: { log.flush.interval.mesages: 1 }")}`);
    expect(problems(() => loadScenario(q))[0]).toMatch(/unknown key "log.flush.interval.mesages"; did you mean log.flush.interval.messages\?/);
  });

  it('names the path, what it found and what it expected, for every problem at once', () => {
    const p = file('name: t\ncluster: { brokers: "three" }\nduration: 30\nfaults: [{ at: 1s }]\n');
    const ps = problems(() => loadScenario(p));
    expect(ps).toHaveLength(3);
    expect(ps.join('\n')).toContain(`${p}: at cluster.brokers: expected a number of brokers, found "three"`);
    expect(ps.join('\n')).toContain(`${p}: at duration: expected a duration such as 500ms, 30s or 2m`);
    expect(ps.join('\n')).toContain(`${p}: at faults[0]: expected one fault action`);
  });

  it('reports a missing required field as missing', () => {
    const p = file('name: t\n');
    expect(problems(() => loadScenario(p))[0]).toMatch(/at cluster: .*missing/);
  });

  it('refuses unreadable, binary, empty and non-mapping files with one clear line', () => {
    expect(problems(() => loadScenario(join(dir, 'nope.yaml')))).toEqual([`${join(dir, 'nope.yaml')}: cannot read the scenario: no such file`]);
    expect(problems(() => loadScenario(dir))[0]).toMatch(/it is a directory/);
    expect(problems(() => loadScenario(file(Buffer.from([0, 1, 2, 255])))).join()).toMatch(/binary file/);
    expect(problems(() => loadScenario(file('')))[0]).toMatch(/expected a mapping/);
    expect(problems(() => loadScenario(file('- a\n- b\n')))[0]).toMatch(/found a list of 2/);
    expect(problems(() => loadScenario(file('name: [', '.yaml')))[0]).toMatch(/not valid YAML/);
    expect(problems(() => loadScenario(file('{"name":', '.json')))[0]).toMatch(/not valid JSON/);
  });

  it('refuses duplicate keys and alias bombs', () => {
    expect(problems(() => loadScenario(file('name: a\nname: b\ncluster: { brokers: 1 }\n')))[0]).toMatch(/not valid YAML/);
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
    for (let i = 0; i < 8; i++) bomb.push(`${'b'.repeat(i + 1)}: &${'b'.repeat(i + 1)} [${Array(10).fill(i === 0 ? '*a' : `*${'b'.repeat(i)}`).join(', ')}]`);
    expect(problems(() => loadScenario(file(bomb.join('\n'))))[0]).toMatch(/not valid YAML|unknown key/);
  });

  it('never throws anything but a ScenarioError on malformed documents', () => {
    const leaf = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.constant(1e308), fc.constant(-0));
    const value = fc.letrec((tie) => ({
      v: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('v'), { maxLength: 4 }), fc.dictionary(fc.string(), tie('v'), { maxKeys: 4 })),
    })).v;
    const doc = fc.oneof(
      value,
      fc.record({ name: value, cluster: value }),
      fc.record({ name: fc.string(), cluster: fc.record({ brokers: value, racks: value, config: value }), faults: value, duration: value, network: value, disk: value }),
    );
    fc.assert(
      fc.property(doc, (d) => {
        try {
          loadScenario(typeof d === 'object' && d !== null ? d : { d });
        } catch (e) {
          expect(e).toBeInstanceOf(ScenarioError);
          for (const p of (e as ScenarioError).problems) expect(p.length).toBeLessThan(1000);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('survives binary garbage and deep nesting in files', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 300 }), (bytes) => {
        try {
          loadScenario(file(Buffer.from(bytes)));
        } catch (e) {
          expect(e).toBeInstanceOf(ScenarioError);
        }
      }),
      { numRuns: 100 },
    );
    const deep = `${'['.repeat(5000)}${']'.repeat(5000)}`;
    expect(() => loadScenario(file(deep))).toThrow(ScenarioError);
  });
});
