import { CHECK_NAMES } from '../../src/scenario/schema.js';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { main, mainAsync } from '../../src/cli/main.js';
import { shardSeeds } from '../../src/cli/search.js';
import { wellFormedXml } from './xml.js';

const dir = mkdtempSync(join(tmpdir(), 'kafkaesque-check-'));
const BIN = join(process.cwd(), 'dist/src/cli/main.js');

function scenario(body: string, name: string): string {
  const p = join(dir, name);
  writeFileSync(p, body);
  return p;
}

async function check(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await mainAsync(args, (t) => void out.push(t), (t) => void err.push(t));
  return { code, out, err };
}

function bin(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, ...env }, cwd: dir });
}

/** The world layer alone (stand-in brokers, page cache): about 100 seeds a second. Power loss loses acknowledged writes. */
const demo = `name: demo
duration: 5s
cluster: { brokers: 3 }
nemesis: { kinds: [crash, power-loss, pause, partition], meanIntervalMs: 1000, maxFaults: 6, maxDurationMs: 1000 }
expect: []
`;
/** The same without power loss: a crash keeps the page cache, so nothing is lost. */
const demoSafe = demo.replace('kinds: [crash, power-loss, pause, partition]', 'kinds: [crash, pause, partition]');

/** A small Kafka cluster with acks=1: a leader cut off from its followers loses acknowledged writes. */
const acks1 = `name: acks1
duration: 12s
cluster: { brokers: 3, controllers: 1, config: { min.insync.replicas: 2, broker.session.timeout.ms: 3000, broker.heartbeat.interval.ms: 500 } }
topics: [{ name: orders, partitions: 1, replication.factor: 3 }]
producers: [{ topic: orders, rate: 100/s, keys: 10, config: { acks: 1, enable.idempotence: false } }]
faults: [{ at: 1s, pause: 2, for: 200ms }]
expect: []
`;
const acksAll = acks1.replace('acks: 1, enable.idempotence: false', 'acks: all').replace('name: acks1', 'name: acksall');

const strip = (json: Record<string, unknown>) => ({ ...json, seedsPerSec: 0 });

describe('kafkaesque check: flags', () => {
  it.each([
    [['--runs', '0'], /--runs.*expected a number of runs: an integer from 1/],
    [['--runs', 'ten'], /expected a number of runs/],
    [['--runs', '2.5'], /expected a number of runs/],
    [['--workers', '0'], /expected a number of workers/],
    [['--workers', '-2'], /expected a number of workers|unknown option/],
    [['--shard', '3/2'], /expected a shard i\/n with 1 ≤ i ≤ n/],
    [['--shard', '0/2'], /expected a shard/],
    [['--shard', '1/0'], /expected a shard/],
    [['--shard', 'two'], /expected a shard/],
    [['--seed', '1.5'], /expected an integer seed/],
    [['--seed', '9007199254740990', '--runs', '10'], /must stay below 2\^53/],
    [['--frobnicate'], /unknown option/],
  ])('exits 2 with one clear message: %j', async (flags, message) => {
    const r = await check('check', scenario(demo, 'flags.yaml'), ...(flags as string[]));
    expect(r.code).toBe(2);
    expect(r.err.join('\n')).toMatch(message as RegExp);
    expect(r.err.join('\n')).not.toMatch(/\n\s+at .*:\d+:\d+/);
  });

  it('exits 2 for a bad scenario, naming the nemesis path', async () => {
    const r = await check('check', scenario(demo.replace('power-loss', 'powerloss'), 'badkind.yaml'), '--runs', '1');
    expect(r.code).toBe(2);
    expect(r.err.join('\n')).toMatch(/at nemesis\.kinds\[1\]: expected a fault kind: crash, restart/);
    expect((await check('check', join(dir, 'missing.yaml'))).code).toBe(2);
  });

  it('the synchronous main refuses check rather than returning before it ends', () => {
    expect(() => main(['check', 'x.yaml'])).toThrow(/mainAsync/);
  });
});

describe('kafkaesque check: the search', () => {
  it('passes when every seed meets expect:, and prints the JSON contract', async () => {
    const r = await check('check', scenario(demoSafe, 'safe.yaml'), '--runs', '30', '--seed', '100', '--workers', '1', '--json');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out.join(''));
    expect(Object.keys(json).slice(0, 5)).toEqual(['scenario', 'runs', 'seedsTried', 'seedsPerSec', 'failures']);
    expect(json).toMatchObject({ scenario: 'demo', runs: 30, seedsTried: 30, failures: [], seeds: { from: 100, to: 129 }, interrupted: false, shrunk: null });
    expect(json.seedsPerSec).toBeGreaterThan(0);
  });

  it('copes with a fault window too short for any fault', async () => {
    const r = await check('check', scenario('name: tiny\nduration: 500us\ncluster: { brokers: 2 }\n', 'tiny.yaml'), '--runs', '3', '--workers', '1', '--json');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out.join('')).seedsTried).toBe(3);
  });

  it('finds the failing seeds, shrinks the first, and writes a counterexample that run replays exactly', async () => {
    const report = join(dir, 'report-demo');
    const junit = join(dir, 'demo-junit.xml');
    const r = await check('check', scenario(demo, 'lossy.yaml'), '--runs', '30', '--seed', '1', '--workers', '1', '--json', '--report', report, '--junit', junit);
    expect(r.code).toBe(1);
    const json = JSON.parse(r.out.join(''));
    expect(json.failures.length).toBeGreaterThan(0);
    const first = json.failures[0];
    expect(first.violations[0]).toMatchObject({ check: 'lost-write' });
    expect(first.faults.some((f: Record<string, unknown>) => f['power-loss'] !== undefined)).toBe(true);
    // Shrunk: no more faults than drawn, and every one left matters.
    expect(json.shrunk.seed).toBe(first.seed);
    expect(json.shrunk.faults.length).toBeLessThanOrEqual(first.faults.length);
    expect(json.shrunk.faults.length).toBeGreaterThan(0);
    expect(json.shrunk.faults.every((f: Record<string, unknown>) => typeof f.at === 'string')).toBe(true);
    const ce = join(report, 'counterexample.yaml');
    expect(json.counterexample).toBe(ce);
    expect(json.replay).toBe(`npx kafkaesque run ${ce} --seed ${first.seed}`);
    const text = readFileSync(ce, 'utf8');
    expect(text).toMatch(/^# kafkaesque check counterexample/);
    expect(text).not.toMatch(/nemesis/);
    // Replaying it with run: the same trace hash, the same findings, the same verdict.
    const out: string[] = [];
    expect(main(['run', ce, '--json'], (t) => void out.push(t), () => undefined)).toBe(1);
    const replay = JSON.parse(out.join(''));
    expect(replay.traceHash).toBe(json.shrunk.traceHash);
    expect(replay.seed).toBe(first.seed);
    expect(replay.violations.filter((v: { check: string }) => v.check === 'lost-write')).toHaveLength(json.shrunk.violations[0].count);
    expect(replay.violations[0].message).toBe(json.shrunk.violations[0].message);
    // The report: check.json, the counterexample's HTML, no temporary file left.
    expect(JSON.parse(readFileSync(join(report, 'check.json'), 'utf8')).shrunk.traceHash).toBe(json.shrunk.traceHash);
    expect(existsSync(join(report, 'index.html'))).toBe(true);
    expect(readdirSync(report).filter((f) => f.includes('.tmp'))).toEqual([]);
    // JUnit: one test case per check per seed, failures where a seed failed.
    const xml = readFileSync(junit, 'utf8');
    expect(wellFormedXml(xml)).toBe(true);
    expect(xml.match(/<testcase /g)).toHaveLength(30 * CHECK_NAMES.length);
    expect(xml.match(/<failure /g)).toHaveLength(json.failures.length);
    expect(xml).toContain(`classname="demo.seed-${first.seed}" name="lost-write"`);
  });

  it('prints a readable summary: the failures, the minimal schedule as YAML, the replay line', async () => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      const r = await check('check', 'lossy.yaml', '--runs', '12', '--workers', '1', '--fail-fast');
      expect(r.code).toBe(1);
      const text = r.out.join('\n');
      expect(text).toMatch(/FAIL {2}1 of \d+ seeds differ from expect: no violation/);
      expect(text).toMatch(/seed \d+ \(\d+ faults\): lost-write ×\d+: /);
      expect(text).toMatch(/shrunk seed \d+ from \d+ faults to \d+ in \d+ runs:\nseed: \d+\nfaults:\n {2}- \{ at: /);
      expect(text).toMatch(/counterexample: counterexample.yaml\nreplay: npx kafkaesque run counterexample.yaml --seed \d+/);
      expect(existsSync(join(dir, 'counterexample.yaml'))).toBe(true);
    } finally {
      process.chdir(cwd);
    }
  });

  it('draws a progress bar on a terminal, and none with --json', async () => {
    const tty = Object.assign(new PassThrough(), { isTTY: true, columns: 100 });
    let drawn = '';
    tty.on('data', (b) => (drawn += String(b)));
    const p = scenario(demoSafe, 'progress.yaml');
    await mainAsync(['check', p, '--runs', '20', '--workers', '1'], () => undefined, () => undefined, { progress: tty });
    expect(drawn).toMatch(/\d+\/20 seeds \| [\d.]+ seeds\/s \| 0 failure\(s\)/);
    drawn = '';
    await mainAsync(['check', p, '--runs', '5', '--workers', '1', '--json'], () => undefined, () => undefined, { progress: tty });
    expect(drawn).toBe('');
  });

  it('stops cleanly when interrupted: a summary, the replay and resume lines, whole files', async () => {
    let seen = 0;
    const out: string[] = [];
    const junit = join(dir, 'interrupted.xml');
    const code = await mainAsync(['check', scenario(demoSafe, 'int.yaml'), '--runs', '1000', '--workers', '1', '--junit', junit], (t) => void out.push(t), () => undefined, { interrupt: () => ++seen > 5 });
    expect(code).toBe(130);
    const text = out.join('\n');
    expect(text).toMatch(/INTERRUPTED {2}\d+ of 1000 seeds run/);
    expect(text).toMatch(/resume: npx kafkaesque check \S+ --runs \d+ --seed \d+/);
    expect(text).toMatch(/replay: npx kafkaesque check \S+ --runs 1000 --seed 1/);
    expect(wellFormedXml(readFileSync(junit, 'utf8'))).toBe(true);
  });
});

describe('kafkaesque check: shards and workers', () => {
  it('shards cover the seed range exactly once', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1000, max: 1000 }), fc.integer({ min: 0, max: 500 }), fc.integer({ min: 1, max: 40 }), (start, runs, count) => {
        const all = Array.from({ length: count }, (_, i) => shardSeeds(start, runs, i + 1, count)).flat();
        expect(all).toEqual(Array.from({ length: runs }, (_, i) => start + i));
      }),
    );
  });

  it('a shard runs its slice, and the slices add up to the whole run', async () => {
    const p = scenario(demo, 'shard.yaml');
    const whole = JSON.parse((await check('check', p, '--runs', '20', '--workers', '1', '--json', '--no-shrink')).out.join(''));
    const parts = [];
    for (const s of ['1/3', '2/3', '3/3']) parts.push(JSON.parse((await check('check', p, '--runs', '20', '--workers', '1', '--json', '--no-shrink', '--shard', s)).out.join('')));
    expect(parts.map((x) => x.seeds)).toEqual([{ from: 1, to: 6 }, { from: 7, to: 13 }, { from: 14, to: 20 }]);
    expect(parts.map((x) => x.seedsTried)).toEqual([6, 7, 7]);
    expect(parts.flatMap((x) => x.failures)).toEqual(whole.failures);
  });

  it('gives the same results with 1 and 2 worker threads (the built binary)', () => {
    const p = scenario(demo, 'workers.yaml');
    const one = bin(['check', p, '--runs', '40', '--workers', '1', '--json']);
    const two = bin(['check', p, '--runs', '40', '--workers', '2', '--json']);
    expect(one.status).toBe(1);
    expect(two.status).toBe(1);
    expect(strip(JSON.parse(two.stdout))).toEqual(strip(JSON.parse(one.stdout)));
    const k = scenario(acksAll, 'kafka-workers.yaml');
    const k1 = bin(['check', k, '--runs', '4', '--seed', '20', '--workers', '1', '--json']);
    const k2 = bin(['check', k, '--runs', '4', '--seed', '20', '--workers', '2', '--json']);
    expect(k1.stderr).toBe('');
    expect(strip(JSON.parse(k2.stdout))).toEqual(strip(JSON.parse(k1.stdout)));
    expect(JSON.parse(k1.stdout).seedsTried).toBe(4);
  });

  it('stops on SIGINT with a summary and no half-written file (the built binary)', async () => {
    const p = scenario(demoSafe, 'sigint.yaml');
    const report = join(dir, 'sigint-report');
    const child = spawn(process.execPath, [BIN, 'check', p, '--runs', '100000', '--workers', '2', '--junit', join(report, 'junit.xml'), '--report', report], { cwd: dir });
    let stdout = '';
    child.stdout.on('data', (b) => (stdout += String(b)));
    await new Promise((r) => child.stdout.once('data', r)); // the header: the search has begun
    await new Promise((r) => setTimeout(r, 800));
    child.kill('SIGINT');
    const code = await new Promise((r) => child.on('exit', (c) => r(c)));
    expect(code).toBe(130);
    expect(stdout).toMatch(/INTERRUPTED {2}\d+ of 100000 seeds run, 0 failed/);
    expect(stdout).toMatch(/replay: npx kafkaesque check/);
    expect(readdirSync(report).sort()).toEqual(['check.json', 'junit.xml']);
    expect(wellFormedXml(readFileSync(join(report, 'junit.xml'), 'utf8'))).toBe(true);
    expect(JSON.parse(readFileSync(join(report, 'check.json'), 'utf8')).interrupted).toBe(true);
  });

  it('honours NO_COLOR and FORCE_COLOR', () => {
    const p = scenario(demoSafe, 'color.yaml');
    const plain = bin(['check', p, '--runs', '3', '--workers', '1'], { NO_COLOR: '1', FORCE_COLOR: undefined });
    expect(plain.stdout).toContain('PASS');
    expect(plain.stdout).not.toMatch(/\x1b\[/);
    const forced = bin(['check', p, '--runs', '3', '--workers', '1'], { NO_COLOR: undefined, FORCE_COLOR: '1' });
    expect(forced.stdout).toMatch(/\x1b\[/);
  });
});
