import { D3Node } from 'd3-node';
import type { FaultInterval } from '../faults/scripted-nemesis.js';
import type { RunDetail } from '../scenario/simulate.js';

const COLORS: Record<FaultInterval['kind'], string> = {
  down: '#d62728',
  'powered-off': '#7f1d1d',
  paused: '#ff9f1c',
  isolated: '#6a4c93',
};

const LABELS: Record<FaultInterval['kind'], string> = {
  down: 'process crashed',
  'powered-off': 'power lost',
  paused: 'paused',
  isolated: 'isolated',
};

/**
 * The cluster timeline: one lane per machine, with the spans it spent crashed, powered off,
 * paused or isolated, the heal phase shaded, and what each lost. Rendered server-side by
 * d3-node; every label is set with `.text()`, which escapes it.
 */
export function timelineSvg(detail: RunDetail): string {
  const d3n = new D3Node();
  const d3 = d3n.d3;
  const laneHeight = 30;
  const margin = { top: 46, right: 190, bottom: 60, left: 170 };
  const width = 960;
  const height = margin.top + margin.bottom + laneHeight * Math.max(1, detail.nodes.length);
  const svg = d3n.createSVG(width, height, { viewBox: `0 0 ${width} ${height}`, role: 'img', 'font-family': 'system-ui, sans-serif', 'font-size': 12 });
  const x = d3.scaleLinear().domain([0, detail.endUs / 1e6]).range([margin.left, width - margin.right]);
  const y = (i: number) => margin.top + i * laneHeight;

  svg
    .append('rect')
    .attr('x', x(detail.faultWindowUs / 1e6))
    .attr('y', margin.top - 6)
    .attr('width', x(detail.endUs / 1e6) - x(detail.faultWindowUs / 1e6))
    .attr('height', laneHeight * detail.nodes.length + 6)
    .attr('fill', '#e8f5e9');
  svg.append('text').attr('x', x(detail.faultWindowUs / 1e6) + 4).attr('y', margin.top - 10).attr('fill', '#2e7d32').text('healed');

  detail.nodes.forEach((node, i) => {
    svg.append('line').attr('x1', x(0)).attr('x2', x(detail.endUs / 1e6)).attr('y1', y(i) + laneHeight / 2).attr('y2', y(i) + laneHeight / 2).attr('stroke', '#bbb');
    svg.append('text').attr('x', margin.left - 8).attr('y', y(i) + laneHeight / 2 + 4).attr('text-anchor', 'end').text(`${node.name} (${node.rack})`);
    const w = detail.writes.find((wr) => wr.node === node.name);
    if (w !== undefined) {
      svg
        .append('text')
        .attr('x', width - margin.right + 8)
        .attr('y', y(i) + laneHeight / 2 + 4)
        .attr('fill', w.lost > 0 ? '#b71c1c' : '#2e7d32')
        .text(w.lost > 0 ? `lost ${w.lost} of ${w.acked} acked` : `kept all ${w.acked} acked`);
    }
  });

  for (const f of detail.faults) {
    const lane = detail.nodes.findIndex((n) => n.id === f.node);
    const from = x(f.fromUs / 1e6);
    const to = x((f.toUs ?? detail.endUs) / 1e6);
    svg
      .append('rect')
      .attr('x', from)
      .attr('y', y(lane) + 6)
      .attr('width', Math.max(2, to - from))
      .attr('height', laneHeight - 12)
      .attr('rx', 3)
      .attr('fill', COLORS[f.kind])
      .append('title')
      .text(`${detail.nodes[lane]?.name}: ${LABELS[f.kind]} from ${(f.fromUs / 1e6).toFixed(3)} s to ${((f.toUs ?? detail.endUs) / 1e6).toFixed(3)} s`);
  }

  const axisY = margin.top + laneHeight * detail.nodes.length + 4;
  const ticks = x.ticks(10);
  svg.append('line').attr('x1', x(0)).attr('x2', x(detail.endUs / 1e6)).attr('y1', axisY).attr('y2', axisY).attr('stroke', '#333');
  for (const t of ticks) {
    svg.append('line').attr('x1', x(t)).attr('x2', x(t)).attr('y1', axisY).attr('y2', axisY + 5).attr('stroke', '#333');
    svg.append('text').attr('x', x(t)).attr('y', axisY + 18).attr('text-anchor', 'middle').text(`${t}`);
  }
  svg.append('text').attr('x', (x(0) + x(detail.endUs / 1e6)) / 2).attr('y', axisY + 34).attr('text-anchor', 'middle').text('simulated time (s)');

  let lx = margin.left;
  for (const kind of Object.keys(COLORS) as FaultInterval['kind'][]) {
    svg.append('rect').attr('x', lx).attr('y', 6).attr('width', 12).attr('height', 12).attr('fill', COLORS[kind]);
    svg.append('text').attr('x', lx + 16).attr('y', 16).text(LABELS[kind]);
    lx += 130;
  }
  return d3n.svgString();
}
