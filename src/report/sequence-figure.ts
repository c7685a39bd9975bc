import { D3Node } from 'd3-node';
import type { MessageWindow } from '../scenario/run-recorder.js';

const LANE_W = 170;
const LEFT = 96;
const ROW_H = 22;
const HEADER_H = 44;
const WINDOW_TITLE_H = 30;
const GAP_H = 26;

/**
 * A message sequence (Lamport) diagram: one vertical lane per node, time going down, an arrow per
 * message from its send to its delivery, labelled with its type and the fields that matter for
 * the partition. Time is ordinal (one row per distinct instant), so bursts and long silences take
 * the same room; the left column gives the simulated time of each row. Several windows (around
 * the fault, the election, the truncation) stack with a break between them. Messages never
 * delivered (held by a partition and then reset, or sent to a dead process) end in a red cross.
 * `idPrefix` keeps the arrowhead marker's id unique when several SVGs are inlined in one page.
 */
export function sequenceSvg(windows: readonly MessageWindow[], idPrefix: string): string {
  const d3n = new D3Node();
  const lanes = windows[0]?.lanes ?? [];
  const width = LEFT + lanes.length * LANE_W + 40;
  const layouts = windows.map((w) => layoutRows(w));
  const height = HEADER_H + layouts.reduce((a, l) => a + WINDOW_TITLE_H + l.rows * ROW_H + 16, 0) + Math.max(0, windows.length - 1) * GAP_H + 10;
  const svg = d3n.createSVG(width, height, { viewBox: `0 0 ${width} ${height}`, role: 'img', 'font-family': 'system-ui, sans-serif', 'font-size': 11 });
  svg.append('title').text(`Messages around the moments that explain ${windows[0]?.partition ?? ''}`);
  const defs = svg.append('defs');
  for (const [id, color] of [
    [`${idPrefix}-arrow`, '#333'],
    [`${idPrefix}-arrow-meta`, '#6a4c93'],
  ]) {
    defs
      .append('marker')
      .attr('id', id)
      .attr('viewBox', '0 0 10 10')
      .attr('refX', 9)
      .attr('refY', 5)
      .attr('markerWidth', 7)
      .attr('markerHeight', 7)
      .attr('orient', 'auto-start-reverse')
      .append('path')
      .attr('d', 'M 0 0 L 10 5 L 0 10 z')
      .attr('fill', color);
  }
  const laneX = new Map(lanes.map((l, i) => [l.id, LEFT + i * LANE_W + LANE_W / 2]));
  lanes.forEach((l) => {
    const x = laneX.get(l.id) as number;
    svg.append('text').attr('x', x).attr('y', 18).attr('text-anchor', 'middle').attr('font-weight', 'bold').attr('font-size', 12).text(l.name);
    svg.append('line').attr('x1', x).attr('x2', x).attr('y1', 26).attr('y2', height - 6).attr('stroke', '#bbb');
  });
  svg.append('text').attr('x', 4).attr('y', 18).attr('fill', '#777').text('time (s)');

  let top = HEADER_H;
  windows.forEach((w, wi) => {
    const { rowOf, sendRow, times, rows } = layouts[wi];
    if (wi > 0) {
      const gapS = (w.messages[0]?.sendUs ?? w.atUs) / 1e6 - lastTimeS(windows[wi - 1]);
      svg.append('rect').attr('x', 0).attr('y', top - GAP_H + 4).attr('width', width).attr('height', GAP_H - 8).attr('fill', '#f4f4f4');
      svg.append('text').attr('x', width / 2).attr('y', top - GAP_H / 2 + 4).attr('text-anchor', 'middle').attr('fill', '#777').text(`… ${gapS.toFixed(3)} s later …`);
    }
    svg.append('text').attr('x', 4).attr('y', top + 18).attr('font-weight', 'bold').attr('font-size', 12).text(`${wi + 1}. ${w.moment} (at ${(w.atUs / 1e6).toFixed(3)} s)`);
    const y0 = top + WINDOW_TITLE_H;
    const yRow = (row: number) => y0 + row * ROW_H + ROW_H / 2;
    const y = (t: number) => yRow(rowOf.get(t) as number);
    // Row times, in the left column.
    times.forEach(([t, row]) => svg.append('text').attr('x', 4).attr('y', yRow(row) + 4).attr('fill', '#999').attr('font-size', 10).text((t / 1e6).toFixed(4)));
    // The trigger.
    const ty = y(w.atUs);
    svg.append('line').attr('x1', LEFT - 10).attr('x2', width - 10).attr('y1', ty).attr('y2', ty).attr('stroke', '#ff9f1c').attr('stroke-width', 1.5).attr('stroke-dasharray', '6 4');
    w.messages.forEach((m, mi) => {
      const x1 = laneX.get(m.from);
      const x2 = laneX.get(m.to);
      if (x1 === undefined || x2 === undefined) return;
      const ya = yRow(sendRow[mi]);
      const meta = m.label.startsWith('metadata') || m.type.startsWith('Raft');
      const g = svg.append('g');
      const dir = x2 > x1 ? 1 : -1;
      if (m.deliverUs === undefined) {
        // Never delivered: half way, then a cross.
        const xe = x1 + (x2 - x1) * 0.55;
        const ye = ya + ROW_H * 0.6;
        // The label first, so its halo never hides the cross.
        const late = m.deliveredLateUs === undefined ? '' : ` (held; delivered at ${(m.deliveredLateUs / 1e6).toFixed(3)} s)`;
        label(g, x1 + dir * 8, ya - 4, dir, m.label + late, '#b71c1c');
        g.append('line').attr('x1', x1).attr('y1', ya).attr('x2', xe).attr('y2', ye).attr('stroke', '#b71c1c').attr('stroke-dasharray', '4 3').attr('stroke-width', 1.3);
        g.append('path').attr('d', `M ${xe - 5} ${ye - 5} L ${xe + 5} ${ye + 5} M ${xe - 5} ${ye + 5} L ${xe + 5} ${ye - 5}`).attr('stroke', '#b71c1c').attr('stroke-width', 2);
        g.append('title').text(`${m.label}: sent at ${(m.sendUs / 1e6).toFixed(6)} s, ${late === '' ? 'never delivered' : late.slice(2, -1)}`);
        return;
      }
      const yb = y(m.deliverUs);
      g.append('line')
        .attr('x1', x1)
        .attr('y1', ya)
        .attr('x2', x2 - dir * 2)
        .attr('y2', yb)
        .attr('stroke', meta ? '#6a4c93' : '#333')
        .attr('stroke-width', 1.2)
        .attr('marker-end', `url(#${idPrefix}-arrow${meta ? '-meta' : ''})`);
      label(g, x1 + dir * 8, ya - 4, dir, m.label, meta ? '#6a4c93' : '#222');
      g.append('title').text(`${m.label}: sent at ${(m.sendUs / 1e6).toFixed(6)} s, delivered at ${(m.deliverUs / 1e6).toFixed(6)} s`);
    });
    for (const e of w.events) {
      const x = laneX.get(e.node);
      if (x === undefined) continue;
      const ey = y(e.atUs);
      svg.append('circle').attr('cx', x).attr('cy', ey).attr('r', 5).attr('fill', '#ff9f1c').attr('stroke', '#fff');
      svg
        .append('text')
        .attr('x', x - 8)
        .attr('y', ey + 4)
        .attr('text-anchor', 'end')
        .attr('font-weight', 'bold')
        .attr('fill', '#e65100')
        .attr('stroke', '#fff')
        .attr('stroke-width', 3)
        .attr('paint-order', 'stroke')
        .text(e.label);
    }
    top = y0 + rows * ROW_H + 16 + GAP_H;
  });
  return d3n.svgString();
}

type Group = ReturnType<ReturnType<D3Node['createSVG']>['append']>;

/** A label along the start of an arrow, with a white halo so crossing lines do not hide it. */
function label(g: Group, x: number, y: number, dir: number, text: string, color: string): void {
  g.append('text')
    .attr('x', x)
    .attr('y', y)
    .attr('text-anchor', dir > 0 ? 'start' : 'end')
    .attr('fill', color)
    .attr('stroke', '#fff')
    .attr('stroke-width', 3)
    .attr('paint-order', 'stroke')
    .text(text);
}

function lastTimeS(w: MessageWindow): number {
  return Math.max(w.atUs, ...w.messages.map((m) => m.deliverUs ?? m.sendUs)) / 1e6;
}

/**
 * Rows: one per send (so no two arrows start on one row and their labels never share a line),
 * and one per distinct instant of the deliveries, events and the trigger. At one instant the
 * deliveries come first: a node receives, then answers.
 */
function layoutRows(w: MessageWindow): { rowOf: Map<number, number>; sendRow: number[]; times: [number, number][]; rows: number } {
  const slots: { t: number; order: number; send?: number }[] = [];
  const instants = new Set<number>([w.atUs]);
  for (const m of w.messages) if (m.deliverUs !== undefined) instants.add(m.deliverUs);
  for (const e of w.events) instants.add(e.atUs);
  for (const t of instants) slots.push({ t, order: 0 });
  w.messages.forEach((m, i) => slots.push({ t: m.sendUs, order: 1 + i, send: i }));
  slots.sort((a, b) => a.t - b.t || a.order - b.order);
  const rowOf = new Map<number, number>();
  const sendRow: number[] = [];
  const times: [number, number][] = [];
  slots.forEach((s, row) => {
    if (s.send === undefined) rowOf.set(s.t, row);
    else sendRow[s.send] = row;
    times.push([s.t, row]);
  });
  // A message never delivered takes a little room below its send.
  return { rowOf, sendRow, times, rows: slots.length + 1 };
}
