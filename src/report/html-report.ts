import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Scenario } from '../scenario/load.js';
import type { RunDetail, RunResult } from '../scenario/simulate.js';
import { timelineSvg } from './timeline-figure.js';

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

const MAX_LISTED_FINDINGS = 50;

/**
 * Writes `dir/index.html` (self-contained: inline CSS and SVG, no external URL), `dir/result.json`
 * (the `run --json` object) and `dir/timeline.svg`. Each file is written under a temporary name
 * and renamed, so an interrupted run never leaves a half-written report.
 */
export function writeRunReport(dir: string, scenario: Scenario, result: RunResult, detail: RunDetail): string {
  mkdirSync(dir, { recursive: true });
  const svg = timelineSvg(detail);
  writeAtomically(join(dir, 'timeline.svg'), svg);
  writeAtomically(join(dir, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
  const path = join(dir, 'index.html');
  writeAtomically(path, renderHtml(scenario, result, detail, svg));
  return path;
}

function writeAtomically(path: string, content: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, content);
  renameSync(tmp, path);
}

function renderHtml(scenario: Scenario, result: RunResult, detail: RunDetail, svg: string): string {
  const e = escapeHtml;
  const pass = result.verdict === 'pass';
  const findings = result.violations.slice(0, MAX_LISTED_FINDINGS).map((v) => `<li><code>${e(v.check)}</code> at ${v.atMs.toFixed(3)} ms: ${e(v.message)}</li>`);
  if (result.violations.length > MAX_LISTED_FINDINGS) findings.push(`<li>… and ${result.violations.length - MAX_LISTED_FINDINGS} more (see result.json)</li>`);
  const narrative = narrate(scenario, result, detail);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(result.scenario)}: kafkaesque report</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 1000px; margin: 2em auto; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.15em; margin-top: 1.6em; }
.verdict { display: inline-block; padding: 0.15em 0.6em; border-radius: 4px; color: white; background: ${pass ? '#2e7d32' : '#b71c1c'}; }
table { border-collapse: collapse; } td, th { text-align: left; padding: 0.2em 0.8em 0.2em 0; vertical-align: top; }
code, pre { background: #f4f4f4; padding: 0.1em 0.3em; border-radius: 3px; }
pre { padding: 0.6em; overflow-x: auto; }
figure { margin: 0; } svg { max-width: 100%; height: auto; }
</style>
</head>
<body>
<h1>${e(result.scenario)} <span class="verdict">${pass ? 'PASS' : 'FAIL'}</span></h1>
${scenario.description ? `<p>${e(scenario.description)}</p>` : ''}
<h2>Summary</h2>
<table>
<tr><th>Seed</th><td><code>${e(String(result.seed))}</code></td></tr>
<tr><th>Expected</th><td>${result.expected.length ? result.expected.map((c) => `<code>${e(c)}</code>`).join(' ') : 'no violation'}</td></tr>
<tr><th>Found</th><td>${result.violations.length} finding(s)</td></tr>
<tr><th>Trace hash</th><td><code>${e(result.traceHash)}</code></td></tr>
<tr><th>Simulated</th><td>${(result.stats.simulatedMs / 1000).toFixed(3)} s, ${result.stats.events} events</td></tr>
<tr><th>Records</th><td>${result.stats.recordsSent} written, ${result.stats.recordsAcked} acknowledged</td></tr>
</table>
<h2>What happened</h2>
<p class="narrative">${e(narrative)}</p>
<h2>Cluster timeline</h2>
<figure id="timeline">${svg}</figure>
<h2>Findings</h2>
${findings.length ? `<ul>${findings.join('\n')}</ul>` : '<p>None.</p>'}
${scenario.notes ? `<h2>Teaching notes</h2><p>${e(scenario.notes)}</p>` : ''}
<h2>Replay</h2>
<pre>${e(result.replay)}</pre>
</body>
</html>
`;
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
  const others = result.violations.filter((v) => v.check !== 'lost-write');
  for (const check of [...new Set(others.map((v) => v.check))]) {
    const v = others.find((o) => o.check === check)!;
    parts.push(`${check} at ${(v.atMs / 1000).toFixed(3)} s: ${v.message}.`);
  }
  return parts.join(' ');
}
