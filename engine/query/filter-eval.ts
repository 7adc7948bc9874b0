/**
 * Filter evaluation over one row group: each leaf writes a 0/1 byte mask, and/or combine masks,
 * and the result becomes a selection vector (indices of passing rows), or null when every row
 * passes so the input goes through untouched (DuckDB's physical_filter).
 *
 * String predicates run once per dictionary entry (cached by dictionary identity: a source's
 * row groups share one dictionary) and are then applied to codes with a table lookup; actor
 * predicates run once per dense actor id of the shard. Numeric kernels are branchless.
 * Zone maps are consulted per node, so a child that every row (or no row) passes is not
 * evaluated row by row.
 *
 * Threading: one evaluator per shard scan (it owns the caches and scratch buffers).
 */
import type { ColumnVector, Scalar } from '../types.js';
import { codeCountsIfReused } from './code-histograms.js';
import { ALL, NONE, inList, matchActor, matchValue, storedForm, zoneVerdict } from './filter-zone.js';
import type { FilterNode } from './query-types.js';
import type { RowGroupReader, Scratch } from './row-group.js';

type Leaf = Extract<FilterNode, { kind: 'leaf' }>;

/** out[i] &= validity bit i (rows [0, n)). */
function andValidity(out: Uint8Array, validity: Uint8Array, n: number): void {
  // out[i] = out[i] && isValid(validity, i)
  for (let i = 0; i < n; i++) out[i] &= (validity[i >> 3] >> (i & 7)) & 1;
}

function numericKernel(op: Leaf['op'], value: Leaf['value'], v: Float64Array | Uint8Array, out: Uint8Array, n: number): void {
  if (op === 'in' || op === '!in') {
    const set = inList(value as Scalar[]).set; // stored forms, prepared once per query
    const hit = op === 'in' ? 1 : 0;
    // out[i] = set.has(v[i]) === (op === 'in')
    for (let i = 0; i < n; i++) out[i] = set.has(v[i]) ? hit : 1 - hit;
    return;
  }
  const c = storedForm(value as Scalar) as number;
  switch (op) {
    case '=': for (let i = 0; i < n; i++) out[i] = +(v[i] === c); return;
    case '!=': for (let i = 0; i < n; i++) out[i] = +(v[i] !== c); return;
    case '<': for (let i = 0; i < n; i++) out[i] = +(v[i] < c); return;
    case '<=': for (let i = 0; i < n; i++) out[i] = +(v[i] <= c); return;
    case '>': for (let i = 0; i < n; i++) out[i] = +(v[i] > c); return;
    case '>=': for (let i = 0; i < n; i++) out[i] = +(v[i] >= c); return;
    default: out.fill(0, 0, n); // text operators never reach a number column (validation)
  }
}

/** Fused selection for a comparison on a column without nulls; −1 for other operators. */
function selectCompare(leaf: Leaf, v: Float64Array | Uint8Array, n: number, sel: Uint32Array): number {
  if (Array.isArray(leaf.value) || leaf.value === null) return -1;
  const c = storedForm(leaf.value) as number;
  let k = 0;
  // if (v[i] op c) sel[k++] = i
  switch (leaf.op) {
    case '=': for (let i = 0; i < n; i++) { sel[k] = i; k += +(v[i] === c); } return k;
    case '!=': for (let i = 0; i < n; i++) { sel[k] = i; k += +(v[i] !== c); } return k;
    case '<': for (let i = 0; i < n; i++) { sel[k] = i; k += +(v[i] < c); } return k;
    case '<=': for (let i = 0; i < n; i++) { sel[k] = i; k += +(v[i] <= c); } return k;
    case '>': for (let i = 0; i < n; i++) { sel[k] = i; k += +(v[i] > c); } return k;
    case '>=': for (let i = 0; i < n; i++) { sel[k] = i; k += +(v[i] >= c); } return k;
    default: return -1;
  }
}

/** Rows i in [0, n) with codes[i] === c: branchless, four rows per step. */
function countEqual(codes: Uint32Array, c: number, n: number): number {
  let k0 = 0;
  let k1 = 0;
  let k2 = 0;
  let k3 = 0;
  let i = 0;
  // k += codes[i] === c
  for (; i + 3 < n; i += 4) {
    k0 += +(codes[i] === c);
    k1 += +(codes[i + 1] === c);
    k2 += +(codes[i + 2] === c);
    k3 += +(codes[i + 3] === c);
  }
  for (; i < n; i++) k0 += +(codes[i] === c);
  return k0 + k1 + k2 + k3;
}

/** Rows i in [0, n) whose code the table marks. */
function countTable(codes: Uint32Array, table: Uint8Array, n: number): number {
  let k0 = 0;
  let k1 = 0;
  let i = 0;
  // k += table[codes[i]]
  for (; i + 1 < n; i += 2) {
    k0 += table[codes[i]];
    k1 += table[codes[i + 1]];
  }
  if (i < n) k0 += table[codes[i]];
  return k0 + k1;
}

/** Rows passing a comparison on a column without nulls; −1 for other operators. */
function countCompare(leaf: Leaf, v: Float64Array | Uint8Array, n: number): number {
  if (Array.isArray(leaf.value) || leaf.value === null) return -1;
  const c = storedForm(leaf.value) as number;
  let k = 0;
  // k += v[i] op c
  switch (leaf.op) {
    case '=': for (let i = 0; i < n; i++) k += +(v[i] === c); return k;
    case '!=': for (let i = 0; i < n; i++) k += +(v[i] !== c); return k;
    case '<': for (let i = 0; i < n; i++) k += +(v[i] < c); return k;
    case '<=': for (let i = 0; i < n; i++) k += +(v[i] <= c); return k;
    case '>': for (let i = 0; i < n; i++) k += +(v[i] > c); return k;
    case '>=': for (let i = 0; i < n; i++) k += +(v[i] >= c); return k;
    default: return -1;
  }
}

export class FilterEvaluator {
  private readonly predicate: FilterNode;
  private readonly scratch: Scratch;
  /** Per dictionary (by identity), per leaf id: 1 where the entry matches. */
  private readonly dictTables = new WeakMap<readonly string[], Map<number, Uint8Array>>();
  /** Per leaf id: per actor id, 0 = not yet known, 1 = no, 2 = yes. */
  private readonly actorTables = new Map<number, Uint8Array>();
  /** Per dictionary table: how many entries match, and the one matching code when there is one. */
  private readonly dictHits = new WeakMap<Uint8Array, { hits: number; code: number }>();

  constructor(predicate: FilterNode, scratch: Scratch) {
    this.predicate = predicate;
    this.scratch = scratch;
  }

  /** Zone verdict of the whole filter for the reader's current row group. */
  verdict(r: RowGroupReader): number {
    const g = r.source!.rowGroups[r.group];
    return zoneVerdict(this.predicate, g.zones, g.rowCount, r.source!.columns);
  }

  /**
   * Selects the rows of the current row group that pass. Returns the number selected and the
   * selection (a view of a scratch buffer, valid until the next call) or null for "all rows".
   */
  select(r: RowGroupReader): { n: number; sel: Uint32Array | null } {
    const n = r.rowCount;
    const fused = this.selectLeaf(r);
    if (fused >= 0) return fused === n ? { n, sel: null } : { n: fused, sel: this.scratch.selection.subarray(0, fused) };
    const mask = this.scratch.mask();
    try {
      this.evalNode(this.predicate, r, mask, n);
      const sel = this.scratch.selection;
      let k = 0;
      // if (mask[i]) sel[k++] = i
      for (let i = 0; i < n; i++) {
        sel[k] = i;
        k += mask[i];
      }
      return k === n ? { n, sel: null } : { n: k, sel: sel.subarray(0, k) };
    } finally {
      this.scratch.releaseMask();
    }
  }

  private evalNode(node: FilterNode, r: RowGroupReader, out: Uint8Array, n: number): void {
    if (node.kind === 'const') {
      out.fill(node.value ? 1 : 0, 0, n);
      return;
    }
    if (node.kind === 'leaf') {
      this.evalLeaf(node, r, out, n);
      return;
    }
    const g = r.source!.rowGroups[r.group];
    const isAnd = node.kind === 'and';
    let first = true;
    for (const child of node.children) {
      const v = zoneVerdict(child, g.zones, g.rowCount, r.source!.columns);
      if (v === (isAnd ? ALL : NONE)) continue; // neutral element
      if (v === (isAnd ? NONE : ALL)) {
        out.fill(isAnd ? 0 : 1, 0, n);
        return;
      }
      if (first) {
        this.evalNode(child, r, out, n);
        first = false;
        continue;
      }
      const tmp = this.scratch.mask();
      try {
        this.evalNode(child, r, tmp, n);
        if (isAnd) for (let i = 0; i < n; i++) out[i] &= tmp[i];
        else for (let i = 0; i < n; i++) out[i] |= tmp[i];
      } finally {
        this.scratch.releaseMask();
      }
    }
    if (first) out.fill(isAnd ? 1 : 0, 0, n);
  }

  private evalLeaf(leaf: Leaf, r: RowGroupReader, out: Uint8Array, n: number): void {
    if (leaf.column.kind === 'actor') {
      this.evalActor(leaf, r, out, n);
      return;
    }
    const vec = r.column(leaf.column);
    if (vec === null) {
      out.fill(leaf.op === '!exists' ? 1 : 0, 0, n);
      return;
    }
    const validity = vec.validity;
    if (leaf.op === 'exists' || leaf.op === '!exists') {
      if (validity === null) {
        out.fill(leaf.op === 'exists' ? 1 : 0, 0, n);
        return;
      }
      const flip = leaf.op === 'exists' ? 0 : 1;
      for (let i = 0; i < n; i++) out[i] = ((validity[i >> 3] >> (i & 7)) & 1) ^ flip;
      return;
    }
    if (vec.type === 'string') this.stringKernel(leaf, vec, out, n);
    else numericKernel(leaf.op, leaf.value, vec.values, out, n);
    if (validity !== null) andValidity(out, validity, n);
  }

  /**
   * The common case of one leaf, fused: the selection comes straight from the codes (or
   * values) in one pass. Returns the number selected, or −1 when the filter is of another shape.
   */
  private selectLeaf(r: RowGroupReader): number {
    const leaf = this.predicate;
    if (leaf.kind !== 'leaf' || leaf.column.kind === 'actor' || leaf.op === 'exists' || leaf.op === '!exists') return -1;
    const vec = r.column(leaf.column);
    if (vec === null) return -1;
    if (vec.type !== 'string') return vec.validity === null ? selectCompare(leaf, vec.values, r.rowCount, this.scratch.selection) : -1;
    const table = this.dictTable(leaf, vec);
    if (this.dictHits.get(table)!.hits === 0) return 0; // the value is not in this dictionary
    const { codes, validity } = vec;
    const sel = this.scratch.selection;
    const n = r.rowCount;
    let k = 0;
    if (validity === null) {
      // if (matches(dict[codes[i]])) sel[k++] = i
      for (let i = 0; i < n; i++) {
        sel[k] = i;
        k += table[codes[i]];
      }
    } else {
      for (let i = 0; i < n; i++) {
        sel[k] = i;
        k += table[codes[i]] & (validity[i >> 3] >> (i & 7));
      }
    }
    return k;
  }

  /**
   * Per dictionary entry, 1 where the leaf matches (computed once per dictionary). The slot
   * after the last entry is 0; `dictHits` holds, per table, the number of matching entries.
   */
  private dictTable(leaf: Leaf, vec: Extract<ColumnVector, { type: 'string' }>): Uint8Array {
    let byLeaf = this.dictTables.get(vec.dict);
    if (byLeaf === undefined) this.dictTables.set(vec.dict, (byLeaf = new Map()));
    let table = byLeaf.get(leaf.id);
    if (table === undefined) {
      const dict = vec.dict;
      table = new Uint8Array(dict.length + 1);
      let hits = 0;
      let hit = -1;
      for (let c = 0; c < dict.length; c++) {
        if (!matchValue(leaf.op, leaf.value, dict[c])) continue;
        table[c] = 1;
        hits++;
        hit = c;
      }
      byLeaf.set(leaf.id, table);
      this.dictHits.set(table, { hits, code: hits === 1 ? hit : -1 });
    }
    return table;
  }

  /**
   * When the filter is one leaf on a string column without nulls in this row group: its codes
   * and the per-code match table (row i passes iff table[codes[i]] is 1), so a caller can fold
   * the filter into its own loop; else null.
   */
  codeTable(r: RowGroupReader): { codes: Uint32Array; table: Uint8Array } | null {
    const leaf = this.predicate;
    if (leaf.kind !== 'leaf' || leaf.column.kind === 'actor' || leaf.op === 'exists' || leaf.op === '!exists') return null;
    const vec = r.column(leaf.column);
    if (vec === null || vec.type !== 'string' || vec.validity !== null) return null;
    return { codes: vec.codes, table: this.dictTable(leaf, vec) };
  }

  /**
   * How many rows of the current row group pass, without building a selection where the
   * filter is one leaf on a string column (counting codes, skipping row groups whose
   * dictionary has no matching entry) or one comparison on a number column without nulls.
   */
  count(r: RowGroupReader): number {
    const leaf = this.predicate;
    const n = r.rowCount;
    if (leaf.kind === 'leaf' && leaf.column.kind !== 'actor' && leaf.op !== 'exists' && leaf.op !== '!exists') {
      const vec = r.column(leaf.column);
      if (vec !== null && vec.type === 'string') {
        const table = this.dictTable(leaf, vec);
        const { hits, code } = this.dictHits.get(table)!;
        if (hits === 0) return 0;
        const { codes, validity } = vec;
        if (validity === null) {
          if (hits === vec.dict.length) return n;
          // the whole block, seen before: its per-code row counts (derived once per decoded block)
          const counts = codes.length === n ? codeCountsIfReused(codes, vec.dict.length) : null;
          if (counts !== null) {
            if (code >= 0) return counts[code];
            let k = 0;
            for (let c = 0; c < vec.dict.length; c++) k += table[c] * counts[c];
            return k;
          }
          if (code >= 0) return countEqual(codes, code, n);
          return countTable(codes, table, n);
        }
      } else if (vec !== null && vec.validity === null) {
        const k = countCompare(leaf, vec.values, n);
        if (k >= 0) return k;
      }
    }
    return this.select(r).n;
  }

  private stringKernel(leaf: Leaf, vec: Extract<ColumnVector, { type: 'string' }>, out: Uint8Array, n: number): void {
    const table = this.dictTable(leaf, vec);
    const codes = vec.codes;
    // out[i] = matches(dict[codes[i]]); codes of null rows may be anything, masked by validity after
    for (let i = 0; i < n; i++) out[i] = table[codes[i]];
  }

  private evalActor(leaf: Leaf, r: RowGroupReader, out: Uint8Array, n: number): void {
    let table = this.actorTables.get(leaf.id);
    if (table === undefined || table.length < r.shard.actorCount) {
      const grown = new Uint8Array(r.shard.actorCount);
      if (table !== undefined) grown.set(table);
      this.actorTables.set(leaf.id, (table = grown));
    }
    const ids = r.actorIds();
    for (let i = 0; i < n; i++) {
      const id = ids[i];
      let t = table[id];
      if (t === 0) table[id] = t = matchActor(leaf.op, leaf.value, r.shard.actorValue(id)) ? 2 : 1;
      out[i] = t >> 1;
    }
  }
}
