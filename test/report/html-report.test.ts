import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { reportFigures } from '../../src/report/html-report.js';
import { messageLabel } from '../../src/scenario/run-recorder.js';
import { simulate } from '../../src/scenario/simulate.js';
import { HOSTILE_NAME, generateReport, lossyScenarioYaml, scenarioFile } from './fixtures.js';

const FIGURE_FILES = ['timeline.svg', 'replica-logs-1.svg', 'sequence-1.svg', 'throughput.svg', 'latency.svg', 'isr.svg', 'under-replicated.svg'];

describe('the HTML report of a Kafka run', () => {
  const scenario = scenarioFile(lossyScenarioYaml());
  const { dir, result } = generateReport(scenario);
  const html = readFileSync(join(dir, 'index.html'), 'utf8');

  it('writes every figure as its own SVG file, inlined byte for byte in index.html, and result.json', () => {
    for (const file of FIGURE_FILES) {
      const path = join(dir, file);
      expect(existsSync(path), file).toBe(true);
      const svg = readFileSync(path, 'utf8');
      expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'), file).toBe(true);
      expect(html).toContain(svg);
    }
    const json = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8'));
    expect(Object.keys(json)).toEqual(['scenario', 'seed', 'verdict', 'expected', 'violations', 'traceHash', 'stats', 'replay']);
    expect(json.scenario).toBe(HOSTILE_NAME);
  });

  it('is self-contained: no script, no external URL, no external stylesheet or image', () => {
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/<link\b|<img\b|@import|url\((?!#)/i);
    for (const file of FIGURE_FILES) expect(readFileSync(join(dir, file), 'utf8')).not.toMatch(/<script|<img|href="http/i);
  });

  it('escapes every scenario-provided string', () => {
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('&lt;img src=x onerror=alert(2)&gt; &amp; &quot;quotes&quot;');
    expect(html).toContain('&lt;/p&gt;&lt;script&gt;alert(3)&lt;/script&gt;');
    expect(html).not.toContain('<img src=x');
    expect(html).not.toContain('alert(3)</script>');
  });

  it('draws the lost records in the replica logs: before the fault, at the election, at the truncation', () => {
    const figures = result.detail.figures;
    expect(figures).toBeDefined();
    const lost = result.violations.filter((v) => v.check === 'lost-write');
    expect(lost.length).toBeGreaterThan(0);
    expect(figures?.focus[0]).toEqual({ partition: lost[0].partition, why: 'finding' });
    const kinds = figures?.replicaLogs.map((s) => s.kind);
    expect(kinds).toEqual(expect.arrayContaining(['before-fault', 'election', 'demoted', 'truncation', 'end']));
    // At the election the old leader still holds the first lost record, at its acknowledged offset.
    const election = figures?.replicaLogs.find((s) => s.kind === 'election');
    const holders = election?.replicas.filter((r) => r.records.some((rec) => rec.offset === lost[0].offset && rec.value === lost[0].evidence?.value));
    expect(holders?.length).toBe(1);
    // After the truncation, no replica does.
    const truncation = figures?.replicaLogs.find((s) => s.kind === 'truncation');
    expect(truncation?.replicas.every((r) => r.records.every((rec) => rec.value !== lost[0].evidence?.value))).toBe(true);
    const svg = readFileSync(join(dir, 'replica-logs-1.svg'), 'utf8');
    expect(svg).toContain('acknowledged, later lost)');
    expect(svg).toMatch(/HW/);
    expect(svg).toMatch(/LEO/);
  });

  it('draws a message window with the divergence and the truncation', () => {
    const windows = result.detail.figures?.sequences ?? [];
    expect(windows.length).toBeGreaterThan(0);
    const labels = windows.flatMap((w) => w.messages.map((m) => m.label));
    expect(labels.some((l) => l.startsWith('Produce'))).toBe(true);
    expect(labels.some((l) => /diverging|OffsetForLeaderEpoch/.test(l))).toBe(true);
    expect(windows.flatMap((w) => w.events.map((e) => e.label)).some((l) => l.startsWith('truncate to'))).toBe(true);
    for (const w of windows) expect(w.messages.length).toBeLessThanOrEqual(24);
  });

  it('tells the story in the narrative, and leaves consumer lag as a labelled placeholder', () => {
    expect(html).toMatch(/<p class="narrative">[^<]*truncated its log to offset \d+, discarding \d+ records?/);
    expect(html).toContain('id="consumer-lag"');
    expect(result.detail.figures?.consumerLag).toBeUndefined();
  });

  it('is deterministic: the same run gives the same bytes, and recording does not change the run', () => {
    const again = generateReport(scenario);
    expect(readFileSync(join(again.dir, 'index.html'), 'utf8')).toBe(html);
    for (const file of FIGURE_FILES) expect(readFileSync(join(again.dir, file), 'utf8')).toBe(readFileSync(join(dir, file), 'utf8'));
    const unrecorded = simulate(scenario, { record: false });
    expect(unrecorded.traceHash).toBe(result.traceHash);
    expect(unrecorded.stats.events).toBe(result.stats.events);
    expect(unrecorded.detail.figures).toBeUndefined();
  });

  it('keeps the figures bounded', () => {
    for (const file of FIGURE_FILES) expect(statSync(join(dir, file)).size).toBeLessThan(200_000);
    const f = result.detail.figures;
    for (const s of f?.replicaLogs ?? []) for (const r of s.replicas) expect(r.records.length).toBeLessThanOrEqual(20);
  });
});

describe('reports without the Kafka model', () => {
  it('draw the timeline and say why the other figures are absent', () => {
    const scenario = scenarioFile(`name: appenders
duration: 5s
cluster: { brokers: 2 }
faults: [{ at: 4s, power-loss: all-brokers, for: 500ms }]
expect: [lost-write]
`);
    const { dir, result } = generateReport(scenario);
    expect(reportFigures(result, result.detail).map((f) => f.file)).toEqual(['timeline.svg']);
    const html = readFileSync(join(dir, 'index.html'), 'utf8');
    expect(html).toContain('need the Kafka model');
    expect(existsSync(join(dir, 'replica-logs-1.svg'))).toBe(false);
  });
});

describe('message labels', () => {
  it('name the fields that matter for the partition, and drop messages about other partitions', () => {
    const fetch = { type: 'FetchRequest', partitions: [{ topic: 'orders', partition: 0, fetchOffset: 1293, currentLeaderEpoch: 1 }] };
    expect(messageLabel(fetch, 'orders-0')).toBe('Fetch @1293 e1');
    expect(messageLabel(fetch, 'orders-1')).toBeUndefined();
    const diverging = { type: 'FetchResponse', partitions: [{ topic: 'my-topic', partition: 10, error: 0, highWatermark: 5, batches: [], divergingEpoch: { epoch: 0, endOffset: 3 } }] };
    expect(messageLabel(diverging, 'my-topic-10')).toBe('Fetch resp diverging e0→3');
    expect(messageLabel({ type: 'RaftFetchRequest' }, 'orders-0')).toBeUndefined();
    expect(messageLabel({ type: 'BrokerHeartbeatRequest' }, 'orders-0')).toBe('Heartbeat');
  });
});
