import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Scenario } from '../scenario/load.js';
import type { RunDetail, RunResult } from '../scenario/simulate.js';
import type { RunFigures } from '../scenario/run-recorder.js';
import { consumerLagSvg, isrSvg, latencySvg, throughputSvg, underReplicatedSvg } from './charts.js';
import { replicaLogsSvg } from './replica-logs-figure.js';
import { sequenceSvg } from './sequence-figure.js';
import { timelineSvg } from './timeline-figure.js';

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

const MAX_LISTED_FINDINGS = 50;

/** One figure of the report: written as `file` and inlined in the page under `section`. */
export interface ReportFigure {
  /** The file name in the report directory (ASCII, no scenario text in it). */
  file: string;
  section: 'timeline' | 'replica-logs' | 'sequence' | 'charts' | 'lag';
  title: string;
  caption: string;
  svg: string;
}

/**
 * Every figure of a run's report, in page order. Pure: the same run gives the same SVG bytes.
 * File names are numbered, never built from scenario strings (a topic may be named anything).
 */
export function reportFigures(result: RunResult, detail: RunDetail): ReportFigure[] {
  const figures: ReportFigure[] = [
    {
      file: 'timeline.svg',
      section: 'timeline',
      title: 'Cluster timeline',
      caption: 'One lane per machine: when it was crashed, powered off, paused or cut off; the shaded end is the heal phase, when every fault is undone.',
      svg: timelineSvg(detail),
    },
  ];
  const f = detail.figures;
  if (f === undefined) return figures;
  const names = new Map(detail.nodes.map((n) => [n.id, n.name]));
  f.focus.forEach(({ partition, why }, i) => {
    const snaps = f.replicaLogs.filter((s) => s.partition === partition);
    const lost = new Set(result.violations.filter((v) => v.check === 'lost-write' && v.partition === partition).map((v) => String(v.evidence?.value ?? '')));
    if (snaps.length > 0) {
      figures.push({
        file: `replica-logs-${i + 1}.svg`,
        section: 'replica-logs',
        title: `Replica logs of ${partition}`,
        caption:
          (why === 'finding' ? `${partition} has findings. ` : `No partition has a finding; ${partition} is the first whose leader changed. `) +
          'Each row is one replica\'s log at that moment: a box per offset with the leader epoch of its batch and a short id of its value (hover for the whole value). Green bars mark the high watermark (HW), dashed blue bars the log end offset (LEO); ⋯ stands for offsets not drawn. Red boxes are records a producer was told were written and that were later lost.',
        svg: replicaLogsSvg(snaps, names, lost),
      });
    }
    const windows = f.sequences.filter((w) => w.partition === partition);
    if (windows.length > 0) {
      figures.push({
        file: `sequence-${i + 1}.svg`,
        section: 'sequence',
        title: `Messages around ${partition}`,
        caption:
          'Lanes are nodes, time goes down (one row per instant, simulated seconds on the left), arrows are messages from send to delivery. Only messages between these nodes that concern this partition are drawn, at most three of each kind per window. The dashed orange line is the moment the window is about; orange dots are protocol events (leader and follower transitions, truncation, fencing). A red cross: never delivered (held by a partition, then the connection reset, or the receiver was down). Purple arrows are the metadata log reaching brokers.',
        svg: sequenceSvg(windows, `seq${i + 1}`),
      });
    }
  });
  if (f.throughput.buckets.some((b) => b.sent > 0)) {
    figures.push({ file: 'throughput.svg', section: 'charts', title: 'Throughput', caption: 'Records per second the producers sent and had acknowledged; the red line counts acknowledgements of records that were later lost. Shaded: faults.', svg: throughputSvg(f.throughput, detail) });
    figures.push({ file: 'latency.svg', section: 'charts', title: 'Latency', caption: 'Time from send() to the acknowledgement, in milliseconds (percentiles of the acknowledgements in each bucket; gaps: none acknowledged).', svg: latencySvg(f.throughput, detail) });
  }
  if (f.isr.partitions.length > 0) {
    figures.push({ file: 'isr.svg', section: 'charts', title: 'ISR size', caption: 'The in-sync replica set each partition\'s controller metadata records (lines are nudged apart slightly so equal values stay visible).', svg: isrSvg(f.isr, detail) });
    figures.push({ file: 'under-replicated.svg', section: 'charts', title: 'Under-replicated partitions', caption: 'Partitions whose ISR is smaller than their replica set (Kafka\'s UnderReplicatedPartitions metric), and partitions with no leader.', svg: underReplicatedSvg(f.isr, detail) });
  }
  if (f.consumerLag !== undefined) {
    figures.push({ file: 'consumer-lag.svg', section: 'lag', title: 'Consumer lag', caption: 'For each consumer group, how many records its committed offsets trail the partitions\' high watermarks (Kafka\'s records-lag, summed over the group\'s partitions). It climbs while a group rebalances or a member is stuck, and falls as commits catch up. Shaded: faults.', svg: consumerLagSvg(f.consumerLag, detail) });
  }
  return figures;
}

/**
 * Writes `dir/index.html` (self-contained: inline CSS and SVG, no external URL), `dir/result.json`
 * (the `run --json` object) and every figure as its own `.svg` file. Each file is written under a
 * temporary name and renamed, so an interrupted run never leaves a half-written report.
 */
export function writeRunReport(dir: string, scenario: Scenario, result: RunResult, detail: RunDetail): string {
  mkdirSync(dir, { recursive: true });
  const figures = reportFigures(result, detail);
  for (const fig of figures) writeAtomically(join(dir, fig.file), fig.svg);
  writeAtomically(join(dir, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
  const path = join(dir, 'index.html');
  writeAtomically(path, renderHtml(scenario, result, detail, figures));
  return path;
}

function writeAtomically(path: string, content: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, content);
  renameSync(tmp, path);
}

/** Renders the page. Deterministic: no wall time, no dates; every scenario string goes through `escapeHtml`. */
export function renderHtml(scenario: Scenario, result: RunResult, detail: RunDetail, figures: readonly ReportFigure[]): string {
  const e = escapeHtml;
  const pass = result.verdict === 'pass';
  const findings = result.violations.slice(0, MAX_LISTED_FINDINGS).map((v) => `<li><code>${e(v.check)}</code> at ${v.atMs.toFixed(3)} ms: ${e(v.message)}</li>`);
  if (result.violations.length > MAX_LISTED_FINDINGS) findings.push(`<li>… and ${result.violations.length - MAX_LISTED_FINDINGS} more (see result.json)</li>`);
  const narrative = narrate(scenario, result, detail);
  const section = (name: ReportFigure['section']) =>
    figures
      .filter((f) => f.section === name)
      .map((f) => `<figure id="fig-${e(f.file.replace(/\.svg$/, ''))}" class="figure"><div class="scroll">${f.svg}</div><figcaption><b>${e(f.title)}.</b> ${e(f.caption)} <a href="${e(f.file)}">${e(f.file)}</a></figcaption></figure>`)
      .join('\n');
  const kafka = detail.figures !== undefined;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(result.scenario)}: kafkaesque report</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; overflow-wrap: anywhere; } h2 { font-size: 1.15em; margin-top: 1.6em; }
nav { font-size: 0.9em; } nav a { margin-right: 0.8em; }
.verdict { display: inline-block; padding: 0.15em 0.6em; border-radius: 4px; color: white; background: ${pass ? '#2e7d32' : '#b71c1c'}; }
table { border-collapse: collapse; } td, th { text-align: left; padding: 0.2em 0.8em 0.2em 0; vertical-align: top; }
table.findings th, table.findings td { border-bottom: 1px solid #eee; }
code, pre { background: #f4f4f4; padding: 0.1em 0.3em; border-radius: 3px; }
pre { padding: 0.6em; overflow-x: auto; white-space: pre-wrap; overflow-wrap: anywhere; }
figure { margin: 0 0 1.5em 0; }
.scroll { overflow: auto; max-height: 90vh; border: 1px solid #eee; }
.scroll > svg { display: block; max-width: none; height: auto; }
figcaption { font-size: 0.9em; color: #444; margin-top: 0.4em; }
.placeholder { color: #666; border: 1px dashed #bbb; padding: 0.6em; }
</style>
</head>
<body>
<h1>${e(result.scenario)} <span class="verdict">${pass ? 'PASS' : 'FAIL'}</span></h1>
${scenario.description ? `<p>${e(scenario.description)}</p>` : ''}
<nav><a href="#summary">Summary</a><a href="#what-happened">What happened</a><a href="#timeline">Timeline</a>${kafka ? '<a href="#replica-logs">Replica logs</a><a href="#sequence">Messages</a><a href="#charts">Charts</a>' : ''}<a href="#findings">Findings</a><a href="#replay">Replay</a></nav>
<h2 id="summary">Summary</h2>
<table>
<tr><th>Seed</th><td><code>${e(String(result.seed))}</code></td></tr>
<tr><th>Expected</th><td>${result.expected.length ? result.expected.map((c) => `<code>${e(c)}</code>`).join(' ') : 'no violation'}</td></tr>
<tr><th>Found</th><td>${result.violations.length} finding(s)</td></tr>
<tr><th>Trace hash</th><td><code>${e(result.traceHash)}</code></td></tr>
<tr><th>Simulated</th><td>${(result.stats.simulatedMs / 1000).toFixed(3)} s, ${result.stats.events} events</td></tr>
<tr><th>Records</th><td>${result.stats.recordsSent} written, ${result.stats.recordsAcked} acknowledged</td></tr>
</table>
<h2 id="what-happened">What happened</h2>
<p class="narrative">${e(narrative)}</p>
<h2 id="timeline">Cluster timeline</h2>
${section('timeline')}
${
  kafka
    ? `<h2 id="replica-logs">Replica logs</h2>
${section('replica-logs') || '<p>No partition changed leader and none has a finding: there is no divergence to draw.</p>'}
<h2 id="sequence">Message sequence</h2>
${section('sequence') || '<p>No message window was captured for the partitions above.</p>'}
<h2 id="charts">Charts</h2>
${section('charts')}
<h3 id="consumer-lag">Consumer lag per group</h3>
${section('lag') || '<p>This scenario has no consumer group.</p>'}`
    : '<p>The replica-log, message and throughput figures need the Kafka model (a scenario with a <code>topics:</code> section).</p>'
}
<h2 id="findings">Findings</h2>
${findingsTable(result)}
${findings.length ? `<details${result.violations.length <= 10 ? ' open' : ''}><summary>Each finding (${result.violations.length})</summary><ul>${findings.join('\n')}</ul></details>` : '<p>None.</p>'}
${scenario.notes ? `<h2>Teaching notes</h2><p>${e(scenario.notes)}</p>` : ''}
<h2 id="replay">Replay</h2>
<pre>${e(result.replay)}</pre>
</body>
</html>
`;
}

/** Findings grouped by check and partition, with the offsets they span. */
function findingsTable(result: RunResult): string {
  if (result.violations.length === 0) return '';
  const e = escapeHtml;
  const groups = new Map<string, { check: string; partition: string; permitted: string; count: number; firstMs: number; lastMs: number; minOffset?: number; maxOffset?: number }>();
  for (const v of result.violations) {
    const key = JSON.stringify([v.check, v.partition ?? '', v.permitted ?? '']);
    const g = groups.get(key) ?? { check: v.check, partition: v.partition ?? '', permitted: v.permitted ?? '', count: 0, firstMs: v.atMs, lastMs: v.atMs };
    g.count++;
    g.firstMs = Math.min(g.firstMs, v.atMs);
    g.lastMs = Math.max(g.lastMs, v.atMs);
    if (v.offset !== undefined) {
      g.minOffset = Math.min(g.minOffset ?? v.offset, v.offset);
      g.maxOffset = Math.max(g.maxOffset ?? v.offset, v.offset);
    }
    groups.set(key, g);
  }
  const rows = [...groups.values()].map(
    (g) =>
      `<tr><td><code>${e(g.check)}</code></td><td>${g.permitted === '' ? 'violation' : `permitted by ${e(g.permitted)}`}</td><td>${e(g.partition) || '—'}</td><td>${g.count}</td><td>${g.minOffset === undefined ? '—' : g.minOffset === g.maxOffset ? g.minOffset : `${g.minOffset}–${g.maxOffset}`}</td><td>${(g.firstMs / 1000).toFixed(3)} s – ${(g.lastMs / 1000).toFixed(3)} s</td></tr>`,
  );
  return `<table class="findings"><tr><th>Check</th><th>Verdict</th><th>Partition</th><th>Count</th><th>Offsets</th><th>When</th></tr>${rows.join('')}</table>`;
}

/** Plain sentences from the findings: what was lost, when, and what would have prevented it. */
function narrate(scenario: Scenario, result: RunResult, detail: RunDetail): string {
  const lost = result.violations.filter((v) => v.check === 'lost-write');
  const kafka = (scenario.topics ?? []).length > 0;
  if (!kafka) {
    const writers = detail.writes.filter((w) => w.lost > 0);
    if (writers.length === 0) return "Every acknowledged record was still in its broker's log after the faults healed.";
    return (
      writers.map((w) => `${w.node} acknowledged ${w.acked} records and lost ${w.lost} of them: they had reached the page cache but not the platter when the power went.`).join(' ') +
      ' Kafka never fsyncs by default (log.flush.interval.messages is Long.MAX_VALUE); with log.flush.interval.messages: 1 a record is acknowledged only once it is durable, and none is lost.'
    );
  }
  const parts: string[] = [];
  if (lost.length === 0) parts.push('Every write the producers were told succeeded was still in the log after the faults healed.');
  else {
    const partitions = [...new Set(lost.map((v) => v.partition))];
    const first = lost[0];
    const last = lost[lost.length - 1];
    parts.push(
      `${lost.length} acknowledged write${lost.length > 1 ? 's were' : ' was'} lost, from ${partitions.join(', ')}, acknowledged between ${(first.atMs / 1000).toFixed(3)} s and ${(last.atMs / 1000).toFixed(3)} s. The first: ${first.message}.`,
    );
    const acks = (scenario.producers ?? []).map((p) => String(p.config?.acks ?? 'all'));
    if (acks.some((a) => a === '1' || a === '0')) {
      parts.push('The producers used acks=' + acks.join('/') + ': a leader answers after its own append, before any follower has the record, so a leader that is cut off or dies takes those records with it. With acks=all and min.insync.replicas=2 the leader cannot acknowledge what its followers do not hold.');
    }
  }
  const story = replicaStory(detail);
  if (story !== '') parts.push(story);
  const others = result.violations.filter((v) => v.check !== 'lost-write');
  for (const check of [...new Set(others.map((v) => v.check))]) {
    const v = others.find((o) => o.check === check)!;
    parts.push(`${check} at ${(v.atMs / 1000).toFixed(3)} s: ${v.message}.`);
  }
  return parts.join(' ');
}

/** What the replica-log snapshots show, in words: the election and each truncation of the first partition drawn. */
function replicaStory(detail: RunDetail): string {
  const f: RunFigures | undefined = detail.figures;
  const partition = f?.focus[0]?.partition;
  if (f === undefined || partition === undefined) return '';
  const names = new Map(detail.nodes.map((n) => [n.id, n.name]));
  const snaps = f.replicaLogs.filter((s) => s.partition === partition);
  const out: string[] = [];
  const at = (us: number) => `${(us / 1e6).toFixed(3)} s`;
  const election = snaps.find((s) => s.kind === 'election');
  if (election !== undefined) {
    const leader = election.replicas.find((r) => r.broker === election.broker);
    const longer = election.replicas.filter((r) => r.broker !== election.broker && leader !== undefined && r.logEndOffset > leader.logEndOffset);
    out.push(
      `In ${partition}, ${election.moment} at ${at(election.atUs)}` +
        (leader === undefined ? '.' : ` with its log ending at offset ${leader.logEndOffset}`) +
        (longer.length > 0 ? `, while ${longer.map((r) => `${names.get(r.broker) ?? r.broker} held up to ${r.logEndOffset}`).join(' and ')}.` : '.'),
    );
  }
  for (const t of snaps.filter((s) => s.kind === 'truncation').slice(0, 3)) {
    const before = [...snaps].reverse().find((s) => s.atUs < t.atUs && s.replicas.some((r) => r.broker === t.broker && r.role !== 'down'));
    const was = before?.replicas.find((r) => r.broker === t.broker)?.logEndOffset;
    const now = t.replicas.find((r) => r.broker === t.broker)?.logEndOffset;
    out.push(`At ${at(t.atUs)} ${t.moment}${was !== undefined && now !== undefined && was > now ? `, discarding ${was - now} record${was - now === 1 ? '' : 's'} it held at ${at(before?.atUs ?? 0)}` : ''}.`);
  }
  return out.join(' ');
}
