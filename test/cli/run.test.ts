import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli/main.js';

const dir = mkdtempSync(join(tmpdir(), 'kafkaesque-cli-'));
const BIN = join(process.cwd(), 'dist/src/cli/main.js');

function scenario(body: string, name = 's.yaml'): string {
  const p = join(dir, name);
  writeFileSync(p, body);
  return p;
}

/** Runs the CLI in-process, capturing its lines. */
function cli(...args: string[]): { code: number; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const code = main(args, (t) => void out.push(t), (t) => void err.push(t));
  return { code, out, err };
}

const lossy = `name: lossy
duration: 40s
cluster: { brokers: 2 }
network: { latency: { distribution: exponential, meanMs: 1 } }
faults: [{ at: 39s, power-loss: all-brokers, for: 500ms }]
expect: [lost-write]
`;

describe('kafkaesque run', () => {
  it('exits 0 when the findings match expect:, and prints the JSON contract', () => {
    const r = cli('run', scenario(lossy, 'lossy.yaml'), '--json', '--seed', '3');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.out.join(''));
    expect(Object.keys(json)).toEqual(['scenario', 'seed', 'verdict', 'expected', 'violations', 'traceHash', 'stats', 'replay']);
    expect(json).toMatchObject({ scenario: 'lossy', seed: 3, verdict: 'pass', expected: ['lost-write'] });
    expect(json.violations.length).toBeGreaterThan(0);
    expect(json.violations[0]).toMatchObject({ check: 'lost-write' });
    expect(typeof json.violations[0].atMs).toBe('number');
    expect(Object.keys(json.stats)).toEqual(['events', 'simulatedMs', 'wallMs', 'recordsSent', 'recordsAcked', 'recordsPolled']);
    expect(json.traceHash).toMatch(/^[0-9a-f]{16}$/);
    expect(json.replay).toBe(`npx kafkaesque run ${join(dir, 'lossy.yaml')} --seed 3`);
  });

  it('exits 1 when the outcome differs from expect:', () => {
    const safe = lossy.replace('cluster: { brokers: 2 }', 'cluster: { brokers: 2, config: { log.flush.interval.messages: 1 } }');
    const r = cli('run', scenario(safe, 'safe.yaml'), '--json');
    expect(JSON.parse(r.out.join('')).violations).toEqual([]);
    expect(r.code).toBe(1); // it expected lost-write and found none
    const r2 = cli('run', scenario(safe.replace('expect: [lost-write]', 'expect: []'), 'safe2.yaml'));
    expect(r2.code).toBe(0);
    expect(r2.out[0]).toContain('PASS');
  });

  it('replays byte for byte: same seed, same JSON apart from wall time', () => {
    const p = scenario(lossy, 'replay.yaml');
    const strip = (s: string) => ({ ...JSON.parse(s), stats: { ...JSON.parse(s).stats, wallMs: 0 } });
    const a = strip(cli('run', p, '--json', '--seed', '11').out.join(''));
    const b = strip(cli('run', p, '--json', '--seed', '11').out.join(''));
    const c = strip(cli('run', p, '--json', '--seed', '12').out.join(''));
    expect(a).toEqual(b);
    expect(c.traceHash).not.toBe(a.traceHash);
  });

  it.each([
    [['run', '/no/such/file.yaml'], /cannot read the scenario: no such file/],
    [['run', 'SCENARIO', '--seed', 'abc'], /expected an integer seed/],
    [['run', 'SCENARIO', '--duration', '30'], /expected a positive duration/],
    [['run'], /missing required argument/],
    [['frobnicate'], /unknown command/],
    [['run', 'BAD'], /at cluster.brokers: expected a number of brokers/],
    [['run', 'NOBROKER'], /there is no broker 9/],
  ])('exits 2 with one clear message for bad input: %j', (args, message) => {
    const good = scenario(lossy, 'good.yaml');
    const bad = scenario('name: b\ncluster: { brokers: x }\n', 'bad.yaml');
    const nobroker = scenario('name: b\ncluster: { brokers: 2 }\nfaults: [{ at: 1s, crash: 9 }]\n', 'nobroker.yaml');
    const argv = (args as string[]).map((a) => (a === 'SCENARIO' ? good : a === 'BAD' ? bad : a === 'NOBROKER' ? nobroker : a));
    const r = cli(...argv);
    expect(r.code).toBe(2);
    expect(r.err.join('\n')).toMatch(message as RegExp);
    expect(r.err.join('\n')).not.toMatch(/\n\s+at .*\(.*:\d+:\d+\)/); // no stack trace
  });

  it('writes a self-contained report, with every scenario string escaped', () => {
    const out = join(dir, 'report');
    const p = scenario(`${lossy.replace('name: lossy', 'name: "<script>alert(1)</script>"')}description: "<img src=x onerror=alert(2)>"\n`, 'xss.yaml');
    expect(cli('run', p, '--report', out).code).toBe(0);
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toContain('<img src=x');
    expect(html).not.toMatch(/(src|href)=["']?https?:/);
    expect(html).toContain('<svg');
    expect(JSON.parse(readFileSync(join(out, 'result.json'), 'utf8')).verdict).toBe('pass');
    expect(existsSync(join(out, 'timeline.svg'))).toBe(true);
  });
});

describe('the kafkaesque binary', () => {
  it('runs from dist with a shebang and reports exit codes to the shell', () => {
    const ok = spawnSync(process.execPath, [BIN, 'run', scenario(lossy, 'bin.yaml'), '--json'], { encoding: 'utf8', maxBuffer: 1 << 28 });
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout).verdict).toBe('pass');
    const bad = spawnSync(process.execPath, [BIN, 'run', join(dir, 'missing.yaml')], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(readFileSync(BIN, 'utf8').startsWith('#!/usr/bin/env node')).toBe(true);
  });

  it('prints no colour codes when NO_COLOR is set or output is not a terminal', () => {
    const out = execFileSync(process.execPath, [BIN, 'run', scenario(lossy, 'color.yaml')], { encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined } });
    expect(out).not.toMatch(/\x1b\[/);
    expect(out).toContain('PASS');
    // The same run with FORCE_COLOR has colour codes, so the check above can fail.
    const forced = execFileSync(process.execPath, [BIN, 'run', scenario(lossy, 'color.yaml')], { encoding: 'utf8', maxBuffer: 1 << 28, env: { ...process.env, NO_COLOR: undefined, FORCE_COLOR: '1' } });
    expect(forced).toMatch(/\x1b\[/);
  });

  it('prints a short summary: verdict, each finding with a one-line cause, the report, the replay', () => {
    const r = cli('run', scenario(lossy.replace('expect: [lost-write]', 'expect: [log-matching]'), 'summary.yaml'), '--report', join(dir, 'summary-report'));
    expect(r.code).toBe(1);
    expect(r.out[0]).toMatch(/^lossy {2}seed 1 {2}FAIL$/);
    expect(r.out.join('\n')).toMatch(/lost-write ×\d+: broker-\d#[\d.]+ was acknowledged/);
    expect(r.out.join('\n')).toMatch(/log-matching: expected, not found/);
    expect(r.out.join('\n')).toMatch(/report: .*summary-report\/index.html/);
    expect(r.out[r.out.length - 1]).toMatch(/^ {2}replay: npx kafkaesque run \S+summary.yaml --seed 1$/);
  });
});
