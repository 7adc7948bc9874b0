// @ts-check
/**
 * A flow diagram (Sankey-like) of path edges in SVG: one column per step from the start (left to
 * right after it; right to left before it, so time always runs to the right), one
 * box per node value sized by sessions, bands between boxes as wide as the sessions they carry.
 * The Start column counts every session from its start (`starts`), also those that ended there
 * and so have no edge; the later columns count the edges into them.
 * Only the largest nodes of each column are drawn (the rest are counted in a note), so labels
 * never crowd; each value keeps one colour across the columns. Drawn at the pixel width of its
 * container (redrawn when that changes), so text is always 12 px. Text goes in as text nodes.
 */
import { h, svg } from '../dom.js';
import { formatNumber } from '../format.js';
import { groupValueLabel } from '../series.js';
import { seriesColor } from './time-chart.js';

const MAX_NODES_PER_COLUMN = 7;
const NODE_W = 12;
const MIN_NODE_H = 16;
const GAP = 10;
const LABEL_CHARS = 22;
/** Room right of the last column for its labels. */
const LABEL_ROOM = 170;
/** The narrowest gap between columns; a narrower box scrolls sideways rather than overlap labels. */
const MIN_COLUMN_GAP = 90;
/** Width of a label character at 12 px (for fitting labels between columns). */
const CHAR_PX = 6.6;

/** @typedef {{ edges: { depth: number, from: any, to: any, sessions: number }[], height?: number, direction: string, starts?: { sessions: Map<string, number>, complete: boolean } }} FlowOptions */

/**
 * @param {FlowOptions} opts  starts: sessions per start value (JSON keys), see pathStarts
 */
export function flowDiagram(opts) {
  const wrap = h('div', { class: 'flow-wrap', 'data-testid': 'flow' });
  let drawnWidth = 0;
  // Drawn at the width it gets on the page (text stays 12 px), again when that changes.
  const draw = (/** @type {number} */ width) => {
    drawnWidth = width;
    wrap.replaceChildren(...drawFlow(opts, width));
  };
  draw(960);
  new ResizeObserver(() => {
    const width = Math.floor(wrap.clientWidth);
    if (width > 0 && Math.abs(width - drawnWidth) > 1) draw(width);
  }).observe(wrap);
  return wrap;
}

/**
 * @param {FlowOptions} opts
 * @param {number} width  the box's width (the drawing is wider when columns would crowd)
 * @returns {Node[]}
 */
function drawFlow(opts, width) {
  const H = opts.height ?? 400;
  const depth = Math.max(0, ...opts.edges.map((e) => e.depth));
  /** @type {Map<string, number>[]} per column: node value → sessions */
  const columns = Array.from({ length: depth + 1 }, () => new Map());
  const add = (/** @type {number} */ c, /** @type {any} */ v, /** @type {number} */ n) => columns[c].set(key(v), (columns[c].get(key(v)) ?? 0) + n);
  for (const e of opts.edges) {
    if (e.depth === 1) add(0, e.from, e.sessions);
    add(e.depth, e.to, e.sessions);
  }
  // The edges out of the start miss the sessions that ended there; a start's own count covers
  // them (when its pairs were cut short, the larger of the two is still a lower bound).
  const starts = opts.starts;
  if (starts) for (const [k, n] of starts.sessions) columns[0].set(k, Math.max(n, columns[0].get(k) ?? 0));
  const atLeast = starts !== undefined && !starts.complete;
  const kept = columns.map((m) => new Map([...m].sort((a, b) => b[1] - a[1]).slice(0, MAX_NODES_PER_COLUMN)));
  const hidden = columns.reduce((n, m, c) => n + m.size - kept[c].size, 0);
  // One colour per value across the whole diagram (most sessions first), so a step is easy to follow.
  /** @type {Map<string, number>} */
  const weight = new Map();
  for (const m of kept) for (const [k, n] of m) weight.set(k, (weight.get(k) ?? 0) + n);
  const colorOf = new Map([...weight].sort((a, b) => b[1] - a[1]).map(([k], i) => [k, seriesColor(i)]));
  const maxTotal = Math.max(1, ...kept.map((m) => [...m.values()].reduce((a, b) => a + b, 0)));
  const maxCount = Math.max(1, ...kept.map((m) => m.size));
  const scale = (H - 20 - (maxCount - 1) * GAP - maxCount * MIN_NODE_H) / maxTotal;
  // Time runs left to right: paths before the start are drawn mirrored, the start on the right.
  const before = opts.direction === 'before';
  const W = Math.max(width, LABEL_ROOM + NODE_W + 4 + depth * MIN_COLUMN_GAP);
  // Labels of all but the outermost column must end before the next column's boxes.
  const labelChars = Math.floor(((W - LABEL_ROOM - NODE_W) / Math.max(1, depth) - NODE_W - 12) / CHAR_PX);
  const colX = (/** @type {number} */ c) => 4 + (depth === 0 ? 0 : ((before ? depth - c : c) * (W - LABEL_ROOM - NODE_W)) / depth);
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
  const usedH = Math.max(...boxes.map((m) => [...m.values()].reduce((y, b) => Math.max(y, b.y + b.h), 0))) + 10;
  const root = svg('svg', { viewBox: `0 0 ${W} ${usedH}`, width: W, height: usedH, class: 'flow', role: 'img', 'aria-label': 'Paths as a flow from left to right' });
  const bands = svg('g', { class: 'bands' });
  const nodes = svg('g', { class: 'nodes' });
  const labels = svg('g', { class: 'labels' });
  root.append(bands, nodes, labels);
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
    const x1 = before ? a.x : a.x + NODE_W;
    const x2 = before ? b.x + NODE_W : b.x;
    const mx = (x1 + x2) / 2;
    bands.append(svg('path', {
      d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`,
      'stroke-width': w.toFixed(2),
      // Coloured by the earlier of its two events (the left end).
      stroke: colorOf.get(key(before ? e.to : e.from)) ?? '#9aa0a6',
      class: 'band',
    }, svg('title', { text: `${groupValueLabel(e.from)} → ${groupValueLabel(e.to)}: ${formatNumber(e.sessions)} sessions` })));
  }
  // Sessions that end at a node: its sessions less those going on (none for the last column).
  // Looking back, a walk that stops early stops where its session started.
  /** @type {Map<string, number>[]} */
  const onward = columns.map(() => new Map());
  for (const e of opts.edges) onward[e.depth - 1]?.set(key(e.from), (onward[e.depth - 1].get(key(e.from)) ?? 0) + e.sessions);
  boxes.forEach((m, c) => {
    for (const [k, b] of m) {
      const value = JSON.parse(k);
      const n = kept[c].get(k) ?? 0;
      const label = groupValueLabel(value);
      const short = label.length > LABEL_CHARS ? `${label.slice(0, LABEL_CHARS - 1)}…` : label;
      const full = `${short} (${formatNumber(n)})`;
      // The outermost column (right, or left when drawn mirrored) has the label room to itself.
      const room = (before ? c === 0 : c === depth) ? LABEL_CHARS + 10 : labelChars;
      const text = full.length <= room ? full : label.length <= room ? label : `${label.slice(0, Math.max(1, room - 1))}…`;
      const ended = c < depth ? Math.max(0, n - (onward[c].get(k) ?? 0)) : 0;
      const tip = `${label}: ${c === 0 && atLeast ? 'at least ' : ''}${formatNumber(n)} sessions${ended > 0 ? `; ${formatNumber(ended)} ${before ? 'started' : 'ended'} here` : ''}`;
      nodes.append(svg('rect', { x: b.x, y: b.y, width: NODE_W, height: b.h, rx: 2, class: 'node', fill: colorOf.get(k) ?? '#0d2238' }, svg('title', { text: tip })));
      // Labels sit on a pale plate so bands passing behind them do not cut through the text.
      const tx = b.x + NODE_W + 4;
      const ty = b.y + Math.min(b.h / 2, 12);
      labels.append(svg('rect', { x: tx - 2, y: ty - 9, width: text.length * 6.6 + 6, height: 17, rx: 3, class: 'label-plate' }));
      labels.append(svg('text', { x: tx + 1, y: ty + 4, class: 'node-label', text }));
    }
  });
  const headName = (/** @type {number} */ c) => (c === 0 ? 'Start' : `${opts.direction === 'before' ? 'Step −' : 'Step +'}${c}`);
  const heads = h('div', { class: 'flow-heads' }, Array.from({ length: depth + 1 }, (_, c) => {
    const el = h('div', { class: 'flow-head' }, headName(c));
    el.style.left = `${colX(c)}px`;
    return el;
  }));
  // The steps left out, by column with their sessions (the top-paths table need not have them).
  const left = columns.map((m, c) => [...m].sort((a, b) => b[1] - a[1]).slice(MAX_NODES_PER_COLUMN)
    .map(([k, n]) => `${groupValueLabel(JSON.parse(k))} (${formatNumber(n)})`)).map((items, c) => (items.length > 0 ? `${headName(c)}: ${items.join(', ')}` : ''));
  return [heads, root,
    ...(hidden > 0 ? [h('details', { class: 'muted small flow-hidden', 'data-testid': 'flow-hidden' },
      h('summary', {}, `The ${MAX_NODES_PER_COLUMN} largest steps of each column are drawn; ${hidden} smaller ones are not`),
      left.filter(Boolean).map((line) => h('div', {}, line)))] : [])];
}

/** @param {any} v */
function key(v) {
  return JSON.stringify(v ?? null);
}
