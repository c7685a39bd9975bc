import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';
import { loadScenario } from '../../src/scenario/load.js';
import { ScenarioError } from '../../src/scenario/scenario-error.js';

/**
 * Issue 8: malformed scenarios through the CLI's loader path. Whatever the document, the loader
 * throws a ScenarioError (never another exception), and the CLI turns it into exit code 2 and
 * short lines that name the file, with no stack trace.
 */

const dir = mkdtempSync(join(tmpdir(), 'kafkaesque-fuzz-'));
let n = 0;

/** A valid Kafka scenario with every section, to mutate. */
const valid = {
  name: 'fuzz',
  seed: 3,
  duration: '10s',
  cluster: { brokers: 3, controllers: 1, racks: ['a', 'b'], config: { 'min.insync.replicas': 2, 'unclean.leader.election.enable': false } },
  network: { latency: { distribution: 'exponential', meanMs: 1 }, lossRate: 0.01 },
  disk: { fsyncMs: 2, 'vm.dirty_expire_centisecs': 3000 },
  topics: [{ name: 'orders', partitions: 2, 'replication.factor': 3, config: { 'min.insync.replicas': 2 } }],
  producers: [{ topic: 'orders', rate: '100/s', keys: 10, config: { acks: 'all' } }],
  faults: [{ at: '2s', crash: 'leader(orders-0)', for: '1s' }, { at: '4s', partition: [['leader(orders-1)', 'producers'], ['others']], for: '2s' }],
  nemesis: { kinds: ['crash', 'pause'], meanIntervalMs: 1000, maxFaults: 4, maxDurationMs: 2000, window: { start: '1s', stop: '9s' } },
  protocol: { leaderEpochTruncation: true },
  expect: ['lost-write'],
};

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Values of the wrong kind: wrong types, huge and odd numbers, garbage strings, deep nesting. */
const bad: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(null, true, false, 0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, Number.MAX_SAFE_INTEGER, '', ' ', '10', '1e999s', '-5s', 'NaN', '∞', 'leader(nope-99)', [], {}, [[]], { '': null }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer({ min: 1, max: 200 }).map((depth) => {
    let v: Json = 1;
    for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { k: v };
    return v;
  }),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 5 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.integer(), { maxKeys: 3 }),
);

/** Every path into the valid scenario, to replace or delete. */
function paths(v: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [prefix];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...prefix, i])));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...prefix, k]));
  return out;
}
const PATHS = paths(valid).filter((p) => p.length > 0);

type Mutation = { path: (string | number)[]; op: 'set'; value: Json } | { path: (string | number)[]; op: 'delete' } | { path: (string | number)[]; op: 'add'; key: string; value: Json };
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ path: fc.constantFrom(...PATHS), op: fc.constant('set' as const), value: bad }),
  fc.record({ path: fc.constantFrom(...PATHS), op: fc.constant('delete' as const) }),
  fc.record({ path: fc.constantFrom(...PATHS), op: fc.constant('add' as const), key: fc.string({ maxLength: 12 }), value: bad }),
);

function mutate(doc: unknown, ms: readonly Mutation[]): unknown {
  const copy = structuredClone(doc) as Record<string | number, unknown>;
  for (const m of ms) {
    let parent: Record<string | number, unknown> | undefined = copy;
    for (const part of m.path.slice(0, -1)) parent = parent?.[part] as Record<string | number, unknown> | undefined;
    const last = m.path[m.path.length - 1];
    if (parent === undefined || parent === null || typeof parent !== 'object') continue;
    if (m.op === 'set') parent[last] = m.value;
    else if (m.op === 'delete') delete parent[last];
    else if (typeof parent[last] === 'object' && parent[last] !== null && !Array.isArray(parent[last])) (parent[last] as Record<string, unknown>)[m.key] = m.value;
  }
  return copy;
}

const asFile = fc.constantFrom('.yaml', '.json');

function write(doc: unknown, ext: string): string {
  const p = join(dir, `f${n++}${ext}`);
  writeFileSync(p, ext === '.json' ? JSON.stringify(doc) : stringify(doc, { aliasDuplicateObjects: false }));
  return p;
}

/** The CLI's loader path: load the file as `run` would; on bad input, `run` exits 2 with clean lines. */
function assertRefusedCleanly(path: string): boolean {
  try {
    loadScenario(path);
    return false; // valid: nothing more to check here (running it would simulate)
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioError);
    const problems = (e as ScenarioError).problems;
    expect(problems.length).toBeGreaterThan(0);
    for (const p of problems) {
      expect(p.startsWith(path)).toBe(true);
      expect(p.length).toBeLessThan(600);
    }
  }
  const err: string[] = [];
  const code = main(['run', path], () => undefined, (t) => void err.push(t));
  expect(code).toBe(2);
  expect(err.length).toBeGreaterThan(0);
  for (const line of err) {
    expect(line.startsWith(`kafkaesque: ${path}`)).toBe(true);
    expect(line).not.toMatch(/^\s+at .*:\d+:\d+\)?$/);
  }
  return true;
}

describe('malformed scenarios through the CLI loader path', () => {
  it('the unmutated document is valid (so every refusal below is the mutation\'s doing)', () => {
    expect(loadScenario(write(valid, '.yaml')).name).toBe('fuzz');
  });

  it('mutated documents: wrong types, missing fields, unknown keys, huge numbers, deep nesting', () => {
    let refused = 0;
    let total = 0;
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 4 }), asFile, (ms, ext) => {
        total++;
        if (assertRefusedCleanly(write(mutate(valid, ms), ext))) refused++;
      }),
      { numRuns: 250 },
    );
    // Most mutations break the document; the property is not vacuous.
    expect(refused / total).toBeGreaterThan(0.6);
  });

  it('text-level garbage: truncated, spliced with binary, repeated keys, deep brackets', () => {
    const text = stringify(valid);
    const garbage = fc.oneof(
      fc.nat({ max: text.length - 1 }).map((cut) => text.slice(0, cut)),
      fc.tuple(fc.nat({ max: text.length }), fc.string({ unit: 'binary', minLength: 1, maxLength: 20 })).map(([at, junk]) => text.slice(0, at) + junk + text.slice(at)),
      fc.integer({ min: 1, max: 3000 }).map((d) => `${text}nest: ${'['.repeat(d)}${']'.repeat(d)}\n`),
      fc.integer({ min: 1, max: 3000 }).map((d) => `${text}nest: ${'{a: '.repeat(d)}1${'}'.repeat(d)}\n`),
      fc.constantFrom(`${text}name: again\n`, '\uFEFF', '---\n---\n', '%YAML 9.9\n---\nname: x\n', '*undefined_alias\n', 'name: !!binary AAAA\ncluster: { brokers: 1 }\n', `${text.replace('brokers: 3', 'brokers: 99999999999999999999999999')}`),
    );
    fc.assert(
      fc.property(garbage, (t) => {
        const p = join(dir, `g${n++}.yaml`);
        writeFileSync(p, t);
        try {
          loadScenario(p);
        } catch (e) {
          expect(e).toBeInstanceOf(ScenarioError);
          assertRefusedCleanly(p);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('the nemesis section: each problem named at its path', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ kinds: ['crash', 'meteor'] }, /at nemesis\.kinds\[1\]: expected a fault kind: crash, restart, kill/],
      [{ kinds: [] }, /at nemesis\.kinds: expected at least one fault kind/],
      [{ meanIntervalMs: 0 }, /at nemesis\.meanIntervalMs: /],
      [{ meanIntervalMs: '3s' }, /at nemesis\.meanIntervalMs: expected a number of milliseconds, found "3s"/],
      [{ maxFaults: -1 }, /at nemesis\.maxFaults: /],
      [{ maxFaults: 1e9 }, /at nemesis\.maxFaults: /],
      [{ maxDurationMs: 1e308 }, /at nemesis\.maxDurationMs: /],
      [{ window: { start: '20s' } }, /at nemesis\.window\.start: the window starts at or after the end of the fault window/],
      [{ window: { stop: '11s' } }, /at nemesis\.window\.stop: the window ends after the fault window/],
      [{ window: { start: '5s', stop: '4s' } }, /at nemesis\.window\.stop: stop must come after start/],
      [{ window: { start: 5 } }, /at nemesis\.window\.start: expected a duration/],
      [{ meanIntervallMs: 5 }, /at nemesis\.meanIntervallMs: unknown key "meanIntervallMs"; did you mean meanIntervalMs\?/],
    ];
    for (const [nemesis, message] of cases) {
      const p = write({ ...valid, nemesis }, '.yaml');
      expect(assertRefusedCleanly(p)).toBe(true);
      try {
        loadScenario(p);
      } catch (e) {
        expect((e as ScenarioError).problems.join('\n')).toMatch(message);
      }
    }
    expect(loadScenario(write({ ...valid, nemesis: {} }, '.yaml')).nemesis).toEqual({});
  });
});
