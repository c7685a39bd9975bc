import { D3Node } from 'd3-node';
import type { RunDetail } from '../scenario/run-result.js';
import type { IsrSeries, RunFigures, ThroughputSeries } from '../scenario/run-recorder.js';

/** One line of a chart: points in (seconds, value); `step` draws it as a step function. */
export interface ChartSeries {
  name: string;
  color: string;
  points: [number, number][];
  step?: boolean;
  dashed?: boolean;
}

export interface ChartSpec {
  title: string;
  yLabel: string;
  endS: number;
  series: ChartSeries[];
  /** Spans (seconds) shaded as faults, with a label on hover. */
  shade?: { fromS: number; toS: number; label: string }[];
  /** Where the heal phase starts (seconds). */
  healS?: number;
  /** Integer values only on the y axis (counts of partitions, ISR sizes). */
  integerY?: boolean;
  yMin?: number;
  /** A logarithmic y axis (values ≤ 0 are not drawn). */
  logY?: boolean;
}

const WIDTH = 960;
const HEIGHT = 260;
const MARGIN = { top: 34, right: 160, bottom: 40, left: 64 };

/** A line chart over simulated time, rendered server-side; labels go through `.text()` (escaped). */
export function lineChartSvg(spec: ChartSpec): string {
  const d3n = new D3Node();
  const d3 = d3n.d3;
  const svg = d3n.createSVG(WIDTH, HEIGHT, { viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'font-family': 'system-ui, sans-serif', 'font-size': 12 });
  svg.append('title').text(spec.title);
  const endS = Math.max(spec.endS, 1e-3);
  const x = d3.scaleLinear().domain([0, endS]).range([MARGIN.left, WIDTH - MARGIN.right]);
  let yMax = 0;
  let yMinPositive = Infinity;
  for (const s of spec.series) {
    for (const [, v] of s.points) {
      if (Number.isFinite(v)) yMax = Math.max(yMax, v);
      if (Number.isFinite(v) && v > 0) yMinPositive = Math.min(yMinPositive, v);
    }
  }
  const logY = spec.logY === true && yMinPositive < Infinity;
  const y = logY
    ? d3.scaleLog().domain([10 ** Math.floor(Math.log10(yMinPositive)), 10 ** Math.ceil(Math.log10(Math.max(yMax, yMinPositive * 10)))]).range([HEIGHT - MARGIN.bottom, MARGIN.top])
    : d3
        .scaleLinear()
        .domain([spec.yMin ?? 0, yMax > (spec.yMin ?? 0) ? yMax * 1.08 : (spec.yMin ?? 0) + 1])
        .range([HEIGHT - MARGIN.bottom, MARGIN.top]);
  if (!spec.integerY && !logY) y.nice();

  svg.append('text').attr('x', MARGIN.left).attr('y', 16).attr('font-weight', 'bold').text(spec.title);
  for (const s of spec.shade ?? []) {
    svg
      .append('rect')
      .attr('x', x(s.fromS))
      .attr('y', MARGIN.top)
      .attr('width', Math.max(1, x(Math.min(s.toS, endS)) - x(s.fromS)))
      .attr('height', HEIGHT - MARGIN.top - MARGIN.bottom)
      .attr('fill', '#6a4c93')
      .attr('fill-opacity', 0.08)
      .append('title')
      .text(s.label);
  }
  if (spec.healS !== undefined && spec.healS < endS) {
    svg.append('line').attr('x1', x(spec.healS)).attr('x2', x(spec.healS)).attr('y1', MARGIN.top).attr('y2', HEIGHT - MARGIN.bottom).attr('stroke', '#2e7d32').attr('stroke-dasharray', '4 3');
    svg.append('text').attr('x', x(spec.healS) + 4).attr('y', MARGIN.top + 10).attr('fill', '#2e7d32').attr('font-size', 11).text('healed');
  }

  // Axes.
  const yTicks = logY
    ? y.ticks().filter((t) => (Math.log10(y.domain()[1] / y.domain()[0]) > 3 ? [1] : [1, 2, 5]).includes(Math.round(t / 10 ** Math.floor(Math.log10(t) + 1e-9))))
    : spec.integerY
      ? y.ticks(Math.min(6, Math.max(1, Math.ceil(y.domain()[1] - y.domain()[0])))).filter((t) => Number.isInteger(t))
      : y.ticks(5);
  for (const t of yTicks) {
    svg.append('line').attr('x1', MARGIN.left).attr('x2', WIDTH - MARGIN.right).attr('y1', y(t)).attr('y2', y(t)).attr('stroke', '#eee');
    svg.append('text').attr('x', MARGIN.left - 6).attr('y', y(t) + 4).attr('text-anchor', 'end').text(formatTick(t));
  }
  const axisY = HEIGHT - MARGIN.bottom;
  svg.append('line').attr('x1', MARGIN.left).attr('x2', WIDTH - MARGIN.right).attr('y1', axisY).attr('y2', axisY).attr('stroke', '#333');
  svg.append('line').attr('x1', MARGIN.left).attr('x2', MARGIN.left).attr('y1', MARGIN.top).attr('y2', axisY).attr('stroke', '#333');
  for (const t of x.ticks(10)) {
    svg.append('line').attr('x1', x(t)).attr('x2', x(t)).attr('y1', axisY).attr('y2', axisY + 4).attr('stroke', '#333');
    svg.append('text').attr('x', x(t)).attr('y', axisY + 16).attr('text-anchor', 'middle').text(`${t}`);
  }
  svg.append('text').attr('x', (MARGIN.left + WIDTH - MARGIN.right) / 2).attr('y', HEIGHT - 6).attr('text-anchor', 'middle').text('simulated time (s)');
  svg
    .append('text')
    .attr('transform', `translate(14 ${(MARGIN.top + axisY) / 2}) rotate(-90)`)
    .attr('text-anchor', 'middle')
    .text(spec.yLabel);

  // Lines, then the legend.
  spec.series.forEach((s, i) => {
    if (s.points.length > 0) {
      const line = d3
        .line<[number, number]>()
        .x((p) => round(x(p[0])))
        .y((p) => round(y(p[1])))
        .defined((p) => Number.isFinite(p[1]) && (!logY || p[1] > 0));
      if (s.step) line.curve(d3.curveStepAfter);
      const path = svg.append('path').attr('d', line(s.points) ?? '').attr('fill', 'none').attr('stroke', s.color).attr('stroke-width', 1.6);
      if (s.dashed) path.attr('stroke-dasharray', '5 3');
      path.append('title').text(s.name);
    }
    const ly = MARGIN.top + 8 + i * 18;
    svg.append('line').attr('x1', WIDTH - MARGIN.right + 12).attr('x2', WIDTH - MARGIN.right + 30).attr('y1', ly).attr('y2', ly).attr('stroke', s.color).attr('stroke-width', 2).attr('stroke-dasharray', s.dashed ? '5 3' : null);
    svg.append('text').attr('x', WIDTH - MARGIN.right + 36).attr('y', ly + 4).text(s.name);
  });
  return d3n.svgString();
}

function round(v: number): number {
  return Math.round(v * 10) / 10;
}

function formatTick(v: number): string {
  if (Math.abs(v) >= 10_000) return `${v / 1000}k`;
  return `${Math.round(v * 1000) / 1000}`;
}

/** Fault spans of the timeline, for shading the charts. */
export function faultShading(detail: RunDetail): ChartSpec['shade'] {
  const names = new Map(detail.nodes.map((n) => [n.id, n.name]));
  return detail.faults.map((f) => ({ fromS: f.fromUs / 1e6, toS: (f.toUs ?? detail.endUs) / 1e6, label: `${names.get(f.node) ?? f.node}: ${f.kind}` }));
}

/** Records per second: sent, acknowledged, failed, and acknowledged but later lost. */
export function throughputSvg(t: ThroughputSeries, detail: RunDetail): string {
  const perS = 1e6 / t.bucketUs;
  const mid = (b: ThroughputSeries['buckets'][number]) => (b.startUs + t.bucketUs / 2) / 1e6;
  return lineChartSvg({
    title: `Producer throughput (per ${formatBucket(t.bucketUs)} bucket, as records/s)`,
    yLabel: 'records/s',
    endS: detail.endUs / 1e6,
    shade: faultShading(detail),
    healS: detail.faultWindowUs / 1e6,
    series: [
      { name: 'sent', color: '#9e9e9e', points: t.buckets.map((b) => [mid(b), b.sent * perS]), dashed: true },
      { name: 'acknowledged', color: '#2e7d32', points: t.buckets.map((b) => [mid(b), b.acked * perS]) },
      { name: 'failed', color: '#ff9f1c', points: t.buckets.map((b) => [mid(b), b.failed * perS]) },
      { name: 'acked, then lost', color: '#b71c1c', points: t.buckets.map((b) => [mid(b), b.lost * perS]) },
    ],
  });
}

/** Acknowledgement latency (send() to ack) percentiles per bucket. */
export function latencySvg(t: ThroughputSeries, detail: RunDetail): string {
  const mid = (b: ThroughputSeries['buckets'][number]) => (b.startUs + t.bucketUs / 2) / 1e6;
  const pts = (f: (b: ThroughputSeries['buckets'][number]) => number | undefined): [number, number][] => t.buckets.map((b) => [mid(b), f(b) ?? Number.NaN]);
  return lineChartSvg({
    title: `Acknowledgement latency, send() to ack (per ${formatBucket(t.bucketUs)} bucket, log scale)`,
    yLabel: 'ms (log)',
    logY: true,
    endS: detail.endUs / 1e6,
    shade: faultShading(detail),
    healS: detail.faultWindowUs / 1e6,
    series: [
      { name: 'p50', color: '#1f77b4', points: pts((b) => b.p50Ms) },
      { name: 'p99', color: '#d62728', points: pts((b) => b.p99Ms) },
      { name: 'max', color: '#9e9e9e', points: pts((b) => b.maxMs), dashed: true },
    ],
  });
}

/** Each partition's state as a step function over time, from the series of changes. */
function stepsByPartition(isr: IsrSeries, endS: number): { isrSize: [number, number][]; leader: number[][] }[] {
  const out = isr.partitions.map(() => ({ isrSize: [] as [number, number][], leader: [] as number[][] }));
  for (const c of isr.changes) {
    out[c.p].isrSize.push([c.atUs / 1e6, c.isrSize]);
    out[c.p].leader.push([c.atUs / 1e6, c.leader]);
  }
  for (const o of out) {
    const last = o.isrSize[o.isrSize.length - 1];
    if (last !== undefined) o.isrSize.push([endS, last[1]]);
  }
  return out;
}

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf', '#393b79', '#637939'];
/** Partitions drawn one line each; beyond this the chart shows the minimum and the mean. */
const MAX_PARTITION_LINES = 8;

/** The committed ISR size: one line per partition when there are few, else the minimum and mean. */
export function isrSvg(isr: IsrSeries, detail: RunDetail): string {
  const endS = detail.endUs / 1e6;
  const steps = stepsByPartition(isr, endS);
  let series: ChartSeries[];
  if (isr.partitions.length <= MAX_PARTITION_LINES) {
    series = isr.partitions.map((p, i) => ({ name: p, color: PALETTE[i % PALETTE.length], points: steps[i].isrSize.map(([t, v]) => [t, v + (i - (isr.partitions.length - 1) / 2) * 0.04] as [number, number]), step: true }));
  } else {
    const times = [...new Set(isr.changes.map((c) => c.atUs))].sort((a, b) => a - b);
    const current = isr.partitions.map(() => Number.NaN);
    const min: [number, number][] = [];
    const mean: [number, number][] = [];
    let ci = 0;
    for (const t of times) {
      while (ci < isr.changes.length && isr.changes[ci].atUs === t) current[isr.changes[ci].p] = isr.changes[ci++].isrSize;
      const known = current.filter((v) => !Number.isNaN(v));
      min.push([t / 1e6, Math.min(...known)]);
      mean.push([t / 1e6, known.reduce((a, b) => a + b, 0) / known.length]);
    }
    if (min.length > 0) {
      min.push([endS, min[min.length - 1][1]]);
      mean.push([endS, mean[mean.length - 1][1]]);
    }
    series = [
      { name: 'mean', color: '#1f77b4', points: mean, step: true },
      { name: `min over ${isr.partitions.length}`, color: '#d62728', points: min, step: true, dashed: true },
    ];
  }
  return lineChartSvg({
    title: isr.partitions.length <= MAX_PARTITION_LINES ? 'ISR size per partition (committed by the controller)' : `ISR size over ${isr.partitions.length} partitions (committed by the controller)`,
    yLabel: 'replicas in ISR',
    endS,
    shade: faultShading(detail),
    healS: detail.faultWindowUs / 1e6,
    integerY: true,
    series,
  });
}

/** Partitions whose ISR is smaller than their replica set (Kafka's UnderReplicatedPartitions), and those without a leader. */
export function underReplicatedSvg(isr: IsrSeries, detail: RunDetail): string {
  const endS = detail.endUs / 1e6;
  const times = [...new Set(isr.changes.map((c) => c.atUs))].sort((a, b) => a - b);
  const isrSize = isr.partitions.map(() => Number.NaN);
  const leader = isr.partitions.map(() => 0);
  const urp: [number, number][] = [];
  const offline: [number, number][] = [];
  let ci = 0;
  for (const t of times) {
    while (ci < isr.changes.length && isr.changes[ci].atUs === t) {
      const c = isr.changes[ci++];
      isrSize[c.p] = c.isrSize;
      leader[c.p] = c.leader;
    }
    urp.push([t / 1e6, isrSize.filter((v, i) => !Number.isNaN(v) && v < isr.replicationFactor[i]).length]);
    offline.push([t / 1e6, leader.filter((l) => l < 0).length]);
  }
  if (urp.length > 0) {
    urp.push([endS, urp[urp.length - 1][1]]);
    offline.push([endS, offline[offline.length - 1][1]]);
  }
  return lineChartSvg({
    title: `Under-replicated and offline partitions (of ${isr.partitions.length})`,
    yLabel: 'partitions',
    endS,
    shade: faultShading(detail),
    healS: detail.faultWindowUs / 1e6,
    integerY: true,
    series: [
      { name: 'under-replicated', color: '#ff7f0e', points: urp, step: true },
      { name: 'offline (no leader)', color: '#b71c1c', points: offline, step: true, dashed: true },
    ],
  });
}

function formatBucket(us: number): string {
  return us >= 1e6 ? `${us / 1e6} s` : `${us / 1000} ms`;
}

/** Consumer lag per group (records the group has yet to commit), one line each. */
export function consumerLagSvg(lag: NonNullable<RunFigures['consumerLag']>, detail: RunDetail): string {
  return lineChartSvg({
    title: 'Consumer lag per group (high watermark minus committed offset, summed over partitions)',
    yLabel: 'records',
    endS: detail.endUs / 1e6,
    shade: faultShading(detail),
    healS: detail.faultWindowUs / 1e6,
    integerY: true,
    series: lag.map((g, i) => ({ name: g.group, color: PALETTE[i % PALETTE.length], points: g.points.map((p) => [p.atUs / 1e6, p.lag] as [number, number]) })),
  });
}
