import { D3Node } from 'd3-node';
import type { ReplicaLogSnapshot, ReplicaLogState } from '../scenario/run-recorder.js';

/** Fill colours by leader epoch (cycled), as the KIP-101 page colours its figures. */
const EPOCH_FILLS = ['#e3f2fd', '#fff3e0', '#e8f5e9', '#f3e5f5', '#fffde7', '#e0f7fa'];
const EPOCH_STROKES = ['#1565c0', '#e65100', '#2e7d32', '#6a1b9a', '#f9a825', '#00838f'];

const BOX_W = 56;
const BOX_H = 34;
const GAP_W = 34;
const ROW_H = 52;
const LABEL_W = 150;
const PANEL_TITLE_H = 40;

/** A column of the figure: one offset, or a gap standing for offsets not shown. */
type Column = { kind: 'offset'; offset: number; x: number } | { kind: 'gap'; from: number; to: number; x: number };

/** A short id for a record value: its last `:`/`/`-separated part, e.g. `producer-1/0:5000` → `5000`. */
export function shortValue(value: string): string {
  const tail = value.split(/[:/#.]/).pop() ?? value;
  return tail.length > 8 ? `${tail.slice(0, 7)}…` : tail;
}

/**
 * The replica logs of one partition at successive moments (before the fault, after the election,
 * when the former leader learns of it, after truncation, at the end): each replica's log as boxes
 * (offset, leader epoch, value id), with its high watermark (HW) and log end offset (LEO) marked.
 * Records whose value is in `lost` (acknowledged, then gone) are outlined in red.
 */
export function replicaLogsSvg(snapshots: readonly ReplicaLogSnapshot[], names: ReadonlyMap<number, string>, lost: ReadonlySet<string>): string {
  const d3n = new D3Node();
  const columnsOf = snapshots.map((s) => layoutColumns(s.ranges));
  const contentW = Math.max(...columnsOf.map((c) => (c.length === 0 ? 0 : c[c.length - 1].x + (c[c.length - 1].kind === 'gap' ? GAP_W : BOX_W))), 240);
  const width = LABEL_W + contentW + 90;
  const panelH = (s: ReplicaLogSnapshot) => PANEL_TITLE_H + 18 + s.replicas.length * ROW_H + 14;
  const legendH = 34;
  const height = legendH + snapshots.reduce((a, s) => a + panelH(s), 0);
  const svg = d3n.createSVG(width, height, { viewBox: `0 0 ${width} ${height}`, role: 'img', 'font-family': 'system-ui, sans-serif', 'font-size': 12 });
  const partition = snapshots[0]?.partition ?? '';
  svg.append('title').text(`Replica logs of ${partition}`);

  // Legend.
  let lx = 4;
  const legend = (draw: (x: number) => number) => (lx = draw(lx) + 18);
  legend((x) => {
    svg.append('rect').attr('x', x).attr('y', 8).attr('width', 26).attr('height', 16).attr('fill', EPOCH_FILLS[0]).attr('stroke', EPOCH_STROKES[0]);
    svg.append('rect').attr('x', x + 28).attr('y', 8).attr('width', 26).attr('height', 16).attr('fill', EPOCH_FILLS[1]).attr('stroke', EPOCH_STROKES[1]);
    svg.append('text').attr('x', x + 60).attr('y', 20).text('a record: leader epoch (colour, eN) and value id');
    return x + 345;
  });
  legend((x) => {
    svg.append('rect').attr('x', x).attr('y', 8).attr('width', 26).attr('height', 16).attr('fill', '#ffebee').attr('stroke', '#b71c1c').attr('stroke-width', 2.5);
    svg.append('text').attr('x', x + 32).attr('y', 20).text('acknowledged, later lost');
    return x + 180;
  });
  legend((x) => {
    svg.append('line').attr('x1', x + 4).attr('x2', x + 4).attr('y1', 6).attr('y2', 26).attr('stroke', '#2e7d32').attr('stroke-width', 3);
    svg.append('text').attr('x', x + 10).attr('y', 20).attr('fill', '#2e7d32').text('HW');
    svg.append('line').attr('x1', x + 44).attr('x2', x + 44).attr('y1', 6).attr('y2', 26).attr('stroke', '#1565c0').attr('stroke-width', 3).attr('stroke-dasharray', '3 2');
    svg.append('text').attr('x', x + 50).attr('y', 20).attr('fill', '#1565c0').text('LEO');
    return x + 80;
  });

  let top = legendH;
  snapshots.forEach((snap, si) => {
    const cols = columnsOf[si];
    const g = svg.append('g').attr('transform', `translate(0 ${top})`);
    g.append('line').attr('x1', 0).attr('x2', width).attr('y1', 2).attr('y2', 2).attr('stroke', '#ddd');
    g.append('text').attr('x', 4).attr('y', 20).attr('font-weight', 'bold').text(`${si + 1}. at ${(snap.atUs / 1e6).toFixed(3)} s: ${snap.moment}`);
    // Offset header.
    for (const c of cols) {
      if (c.kind === 'offset') g.append('text').attr('x', LABEL_W + c.x + BOX_W / 2).attr('y', PANEL_TITLE_H + 6).attr('text-anchor', 'middle').attr('fill', '#555').attr('font-size', 11).text(`${c.offset}`);
      else g.append('text').attr('x', LABEL_W + c.x + GAP_W / 2).attr('y', PANEL_TITLE_H + 6).attr('text-anchor', 'middle').attr('fill', '#999').attr('font-size', 11).text('…');
    }
    if (cols.length === 0) g.append('text').attr('x', LABEL_W).attr('y', PANEL_TITLE_H + 6).attr('fill', '#777').text('no replica of this partition was readable (all down)');
    snap.replicas.forEach((r, ri) => {
      const y = PANEL_TITLE_H + 16 + ri * ROW_H;
      drawReplicaRow(g, r, y, cols, names, lost, width);
    });
    top += panelH(snap);
  });
  return d3n.svgString();
}

type Group = ReturnType<ReturnType<D3Node['createSVG']>['append']>;

function drawReplicaRow(g: Group, r: ReplicaLogState, y: number, cols: Column[], names: ReadonlyMap<number, string>, lost: ReadonlySet<string>, width: number): void {
  const name = names.get(r.broker) ?? `broker-${r.broker}`;
  const roleText = r.role === 'leader' ? `leader, epoch ${r.leaderEpoch}` : r.role === 'follower' ? `follower, epoch ${r.leaderEpoch}` : r.role === 'down' ? 'process down' : 'no replica';
  g.append('text').attr('x', 4).attr('y', y + 14).attr('font-weight', r.role === 'leader' ? 'bold' : 'normal').text(name);
  g.append('text').attr('x', 4).attr('y', y + 29).attr('fill', r.role === 'down' ? '#b71c1c' : '#555').attr('font-size', 11).text(roleText);
  if (r.role === 'down' || r.role === 'no-replica') {
    g.append('line').attr('x1', LABEL_W).attr('x2', width - 90).attr('y1', y + BOX_H / 2).attr('y2', y + BOX_H / 2).attr('stroke', '#ccc').attr('stroke-dasharray', '2 4');
    return;
  }
  const byOffset = new Map(r.records.map((rec) => [rec.offset, rec]));
  for (const c of cols) {
    const x = LABEL_W + c.x;
    if (c.kind === 'gap') {
      const holds = r.logEndOffset > c.from;
      g.append('text').attr('x', x + GAP_W / 2).attr('y', y + BOX_H / 2 + 4).attr('text-anchor', 'middle').attr('fill', holds ? '#555' : '#ccc').text(holds ? '⋯' : '');
      if (holds) g.append('title').text(`offsets ${c.from} to ${c.to - 1} not shown`);
      continue;
    }
    const rec = byOffset.get(c.offset);
    if (rec === undefined) {
      g.append('rect').attr('x', x + 2).attr('y', y).attr('width', BOX_W - 4).attr('height', BOX_H).attr('fill', 'none').attr('stroke', '#e0e0e0').attr('stroke-dasharray', '3 3');
      continue;
    }
    const isLost = lost.has(rec.value);
    const e = ((rec.epoch % EPOCH_FILLS.length) + EPOCH_FILLS.length) % EPOCH_FILLS.length;
    const box = g.append('g');
    box
      .append('rect')
      .attr('x', x + 2)
      .attr('y', y)
      .attr('width', BOX_W - 4)
      .attr('height', BOX_H)
      .attr('rx', 3)
      .attr('fill', isLost ? '#ffebee' : EPOCH_FILLS[e])
      .attr('stroke', isLost ? '#b71c1c' : EPOCH_STROKES[e])
      .attr('stroke-width', isLost ? 2.5 : 1);
    box.append('text').attr('x', x + 6).attr('y', y + 12).attr('font-size', 10).attr('fill', EPOCH_STROKES[e]).text(`e${rec.epoch}`);
    box.append('text').attr('x', x + BOX_W / 2).attr('y', y + 27).attr('text-anchor', 'middle').attr('font-size', 12).attr('fill', isLost ? '#b71c1c' : '#222').text(shortValue(rec.value));
    box.append('title').text(`offset ${rec.offset}, leader epoch ${rec.epoch}, value ${rec.value}${isLost ? ' (acknowledged, later lost)' : ''}`);
  }
  // HW and LEO marks, at the boundary before that offset.
  const hwX = LABEL_W + boundaryX(cols, r.highWatermark);
  const leoX = LABEL_W + boundaryX(cols, r.logEndOffset);
  g.append('line').attr('x1', hwX).attr('x2', hwX).attr('y1', y - 4).attr('y2', y + BOX_H + 4).attr('stroke', '#2e7d32').attr('stroke-width', 3);
  g.append('line').attr('x1', leoX).attr('x2', leoX).attr('y1', y - 4).attr('y2', y + BOX_H + 4).attr('stroke', '#1565c0').attr('stroke-width', 3).attr('stroke-dasharray', '3 2');
  const marks = hwX === leoX ? [{ x: hwX, text: `HW=LEO ${r.highWatermark}`, color: '#2e7d32' }] : [
    { x: hwX, text: `HW ${r.highWatermark}`, color: '#2e7d32' },
    { x: leoX, text: `LEO ${r.logEndOffset}`, color: '#1565c0' },
  ];
  // One label: right of its line. Two: HW's to the left of its line, LEO's to the right of its own.
  marks.forEach((m, i) => {
    const left = marks.length > 1 && i === 0;
    g.append('text').attr('x', left ? m.x - 4 : m.x + 4).attr('y', y + BOX_H + 13).attr('font-size', 10).attr('fill', m.color).attr('text-anchor', left ? 'end' : 'start').text(m.text);
  });
}

function layoutColumns(ranges: readonly [number, number][]): Column[] {
  const cols: Column[] = [];
  let x = 0;
  ranges.forEach(([from, to], i) => {
    if (i > 0 || from > 0) {
      const prevEnd = i === 0 ? 0 : ranges[i - 1][1];
      cols.push({ kind: 'gap', from: prevEnd, to: from, x });
      x += GAP_W;
    }
    for (let o = from; o < to; o++) {
      cols.push({ kind: 'offset', offset: o, x });
      x += BOX_W;
    }
  });
  return cols;
}

/** The x of the boundary just before `offset`: a box's left edge, the middle of a gap, or the ends. */
function boundaryX(cols: readonly Column[], offset: number): number {
  for (const c of cols) {
    if (c.kind === 'offset' && c.offset === offset) return c.x;
    if (c.kind === 'gap' && offset >= c.from && offset < c.to) return c.x + GAP_W / 2;
  }
  const last = cols[cols.length - 1];
  if (last === undefined) return 0;
  const lastEnd = last.x + (last.kind === 'gap' ? GAP_W : BOX_W);
  const firstOffset = cols.find((c) => c.kind === 'offset');
  if (firstOffset !== undefined && firstOffset.kind === 'offset' && offset < firstOffset.offset) return cols[0].x;
  return lastEnd;
}
