// @ts-check
/**
 * A flow diagram (Sankey-like) of path edges in SVG: one column per step from the start, one
 * box per node value sized by sessions, bands between boxes as wide as the sessions they carry.
 * Only the largest nodes of each column are drawn (the rest are counted in a note), so labels
 * never crowd. Text goes in as text nodes.
 */
import { h, svg } from '../dom.js';
import { formatNumber } from '../format.js';
import { groupValueLabel } from '../series.js';
import { seriesColor } from './time-chart.js';

const MAX_NODES_PER_COLUMN = 7;
const NODE_W = 12;
const MIN_NODE_H = 16;
const GAP = 10;
const LABEL_CHARS = 26;

/**
 * @param {{ edges: { depth: number, from: any, to: any, sessions: number }[], width?: number, height?: number, direction: string }} opts
 */
export function flowDiagram(opts) {
  const W = opts.width ?? 960;
  const H = opts.height ?? 420;
  const depth = Math.max(0, ...opts.edges.map((e) => e.depth));
  /** @type {Map<string, number>[]} per column: node value → sessions */
  const columns = Array.from({ length: depth + 1 }, () => new Map());
  const add = (/** @type {number} */ c, /** @type {any} */ v, /** @type {number} */ n) => columns[c].set(key(v), (columns[c].get(key(v)) ?? 0) + n);
  for (const e of opts.edges) {
    if (e.depth === 1) add(0, e.from, e.sessions);
    add(e.depth, e.to, e.sessions);
  }
  const kept = columns.map((m) => new Map([...m].sort((a, b) => b[1] - a[1]).slice(0, MAX_NODES_PER_COLUMN)));
  const hidden = columns.reduce((n, m, c) => n + m.size - kept[c].size, 0);
  const maxTotal = Math.max(1, ...kept.map((m) => [...m.values()].reduce((a, b) => a + b, 0)));
  const maxCount = Math.max(1, ...kept.map((m) => m.size));
  const scale = (H - 20 - (maxCount - 1) * GAP - maxCount * MIN_NODE_H) / maxTotal;
  const colX = (/** @type {number} */ c) => 4 + (depth === 0 ? 0 : (c * (W - 180 - NODE_W)) / depth);
  /** @type {Map<string, { x: number, y: number, h: number, outY: number, inY: number }>[]} */
  const boxes = kept.map((m, c) => {
    const out = new Map();
    let y = 10;
    for (const [k, n] of m) {
      const hgt = MIN_NODE_H + n * scale;
      out.set(k, { x: colX(c), y, h: hgt, outY: y + MIN_NODE_H / 2, inY: y + MIN_NODE_H / 2 });
      y += hgt + GAP;
    }
    return out;
  });
  const root = svg('svg', { viewBox: `0 0 ${W} ${H}`, class: 'flow', preserveAspectRatio: 'xMinYMin meet', role: 'img', 'aria-label': 'Paths as a flow from left to right' });
  const bands = svg('g', { class: 'bands' });
  const nodes = svg('g', { class: 'nodes' });
  root.append(bands, nodes);
  const sorted = [...opts.edges].sort((a, b) => a.depth - b.depth || b.sessions - a.sessions);
  for (const e of sorted) {
    const a = boxes[e.depth - 1]?.get(key(e.from));
    const b = boxes[e.depth]?.get(key(e.to));
    if (!a || !b) continue;
    const w = Math.max(1, e.sessions * scale);
    const y1 = a.outY + w / 2;
    const y2 = b.inY + w / 2;
    a.outY += w;
    b.inY += w;
    const x1 = a.x + NODE_W;
    const x2 = b.x;
    const mx = (x1 + x2) / 2;
    const colorIndex = [...kept[e.depth - 1].keys()].indexOf(key(e.from));
    bands.append(svg('path', {
      d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`,
      'stroke-width': w.toFixed(2),
      stroke: seriesColor(colorIndex),
      class: 'band',
    }, svg('title', { text: `${groupValueLabel(e.from)} → ${groupValueLabel(e.to)}: ${formatNumber(e.sessions)} sessions` })));
  }
  boxes.forEach((m, c) => {
    for (const [k, b] of m) {
      const value = JSON.parse(k);
      const n = kept[c].get(k) ?? 0;
      const label = groupValueLabel(value);
      const short = label.length > LABEL_CHARS ? `${label.slice(0, LABEL_CHARS - 1)}…` : label;
      nodes.append(svg('rect', { x: b.x, y: b.y, width: NODE_W, height: b.h, rx: 2, class: 'node' }, svg('title', { text: `${label}: ${formatNumber(n)} sessions` })));
      nodes.append(svg('text', { x: b.x + NODE_W + 5, y: b.y + Math.min(b.h / 2, 14) + 4, class: 'node-label', text: `${short} (${formatNumber(n)})` }));
    }
  });
  const heads = h('div', { class: 'flow-heads' }, Array.from({ length: depth + 1 }, (_, c) => {
    const el = h('div', { class: 'flow-head' }, c === 0 ? 'Start' : `${opts.direction === 'before' ? 'Step −' : 'Step +'}${c}`);
    el.style.left = `${(colX(c) / W) * 100}%`;
    return el;
  }));
  return h('div', { class: 'flow-wrap', 'data-testid': 'flow' }, heads, root,
    hidden > 0 ? h('div', { class: 'muted small' }, `The ${MAX_NODES_PER_COLUMN} largest steps of each column are drawn; ${hidden} smaller ones are in the table below.`) : null);
}

/** @param {any} v */
function key(v) {
  return JSON.stringify(v ?? null);
}
