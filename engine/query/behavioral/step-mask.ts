/**
 * Per-row bitmasks of a behavioral stream's filters over one row group: bit i is set where
 * the row matches filter i (a funnel step, an exclusion, a retention start/return event).
 *
 * The common filter — one comparison on a string column, like `["event", "=", "signup"]` —
 * never runs per row: for each such column, the bits of all its filters are computed once
 * per dictionary entry (cached by dictionary identity: a source's row groups share one), and
 * a row's bits are then one table lookup on its code. With all steps on one column (the usual
 * funnel) the whole mask is a single pass `bits[i] = table[codes[i]]`. A constant filter (a
 * retention without `return`: every event) is a bit set in every row, folded into those
 * tables. Other filters go through FilterEvaluator's selection vectors and are OR-ed in.
 *
 * Null semantics match FilterEvaluator: a null value matches no comparison, so null rows get
 * no bits from these tables (`exists`/`!exists` take the general path).
 *
 * Threading: one masker per shard scan (it owns its caches).
 */
import { FilterEvaluator } from '../filter-eval.js';
import { ALL, NONE, matchValue } from '../filter-zone.js';
import type { FilterNode } from '../query-types.js';
import type { ColumnVector } from '../../types.js';
import type { RowGroupReader, Scratch } from '../row-group.js';
import { densePickBytes, gatherDense, packDense, restoreDense, type DensePick, type DenseRows } from './dense-rows.js';
import { CHAIN_SHIFT, MAX_CHAIN, orderUnits, unitOrderBytes } from './unit-order.js';

type Leaf = Extract<FilterNode, { kind: 'leaf' }>;

/** The string-column leaves of one column, with their bits. */
interface DictColumn {
  ref: Extract<Leaf['column'], { kind: 'column' }>;
  leaves: { leaf: Leaf; bit: number }[];
  tables: WeakMap<readonly string[], Uint32Array>;
}

function isDictLeaf(f: FilterNode): f is Leaf {
  return f.kind === 'leaf' && f.column.kind === 'column' && f.column.type === 'string' && f.op !== 'exists' && f.op !== '!exists';
}

/**
 * A streamed ordered funnel's entry runs, which the masker may collapse (see collapseEntryRuns):
 * the entry range [fromMs, toMs) of its first step.
 */
export interface EntryRuns {
  fromMs: number;
  toMs: number;
}

export class StepMasker {
  /** Whether the picks kept as memos mark chains in their bits (annotateChains): a streamed funnel of at most CHAIN_SHIFT steps. */
  readonly chains: boolean;
  private readonly columns: DictColumn[] = [];
  private readonly general: { index: number; eval: FilterEvaluator }[] = [];
  /** Bits of the filters that are constant true: set in every row. */
  private constBits = 0;
  /** One evaluator per filter, for zone-map verdicts. */
  private readonly verdictOf: FilterEvaluator[];
  /**
   * The memo name of this masker's picks (see pickFused): every leaf's bit, operator and value,
   * the constant bits, the sample and the entry runs' range (picks collapsed by one range are
   * not another's); null when picks are not kept.
   */
  private memoName: string | null = null;

  /**
   * @param sample the threshold of a sampled shard whose other actors' rows pickFused drops (`keep`), or null
   * @param entryRuns set by an operator for which picked rows in the middle of an actor's run of
   *   first-filter-only rows change nothing (a streamed ordered funnel): they are dropped from
   *   every pick (collapseEntryRuns)
   */
  constructor(filters: readonly FilterNode[], scratch: Scratch, sample: number | null = null, private readonly entryRuns: EntryRuns | null = null) {
    this.verdictOf = filters.map((f) => new FilterEvaluator(f, scratch));
    this.chains = entryRuns !== null && filters.length <= CHAIN_SHIFT;
    filters.forEach((f, i) => {
      if (f.kind === 'const') {
        if (f.value) this.constBits |= 1 << i;
        return;
      }
      if (!isDictLeaf(f)) {
        this.general.push({ index: i, eval: this.verdictOf[i] });
        return;
      }
      const ref = f.column as DictColumn['ref'];
      let col = this.columns.find((c) => c.ref.name === ref.name);
      if (col === undefined) this.columns.push((col = { ref, leaves: [], tables: new WeakMap() }));
      col.leaves.push({ leaf: f, bit: 1 << i });
    });
    // Memos keep a row's bits in a byte: at most 8 filters.
    if (this.columns.length === 1 && this.general.length === 0 && filters.length <= 8) {
      const runs = entryRuns === null ? '' : `${entryRuns.fromMs}:${entryRuns.toMs}`;
      this.memoName = `pick\u0000${this.constBits}\u0000${JSON.stringify(this.columns[0].leaves.map(({ leaf, bit }) => [bit, leaf.op, leaf.value]))}\u0000${sample ?? ''}\u0000${runs}`;
    }
  }

  /** Zone verdict of each filter for the reader's current row group. */
  verdicts(r: RowGroupReader): number[] {
    return this.verdictOf.map((e) => e.verdict(r));
  }

  private table(col: DictColumn, dict: readonly string[]): Uint32Array {
    let t = col.tables.get(dict);
    if (t === undefined) {
      t = new Uint32Array(dict.length + 1);
      for (let c = 0; c < dict.length; c++) {
        let bits = this.constBits;
        for (const { leaf, bit } of col.leaves) if (matchValue(leaf.op, leaf.value, dict[c])) bits |= bit;
        t[c] = bits;
      }
      col.tables.set(dict, t);
    }
    return t;
  }

  /**
   * The fused common case — every filter a string comparison on one column without nulls, or
   * constant — in one pass: writes the rows with some bit into `picked` and their bits into
   * `bits` (by row; other rows' entries are unspecified). Returns how many were picked, or −1 when the
   * filters are of another shape (use `compute`). With `keep` (a sample's kept actors, read
   * through the row group's actor ids; made by the constructor's `sample`), rows of other actors
   * are not picked.
   *
   * Behind a block cache (ScanSource.memo) the picked rows and their bits are kept with the
   * column's block from its first use on (when the cache holds the block), named by the filters,
   * the sample and the entry runs: a repeated funnel then neither reads the column nor looks up
   * a row's bits or actor again, and restores them in two native copies. From the first use, not
   * the second as per-block code counts are (code-histograms.ts): a pick costs a funnel's hot run
   * more than anything but its per-actor loop (at a billion events, the second run of a sampled
   * funnel took 2.4 s against the third's 0.9 s), while keeping it costs the first run two
   * copies, next to reading and decoding the blocks (and the room the memos take from that run's
   * later blocks, when its blocks outgrow the cache). Kept compactly, a byte a row and two a
   * picked row: for row groups of up to 2^16 rows and at most 8 filters.
   */
  pickFused(r: RowGroupReader, n: number, bits: Uint32Array, picked: Uint32Array, keep: Uint8Array | null): number {
    if (this.columns.length !== 1 || this.general.length !== 0) return -1;
    const memo = this.keptPick(r) as PickMemo | undefined;
    if (memo !== undefined) return restorePick(memo, bits, picked);
    const k = this.pickNow(r, n, bits, picked, keep);
    if (k >= 0 && this.keepsPick(r, n)) this.keepPick(r, MEMO_OVERHEAD_BYTES + n + 2 * k, () => packPick(bits, picked, k, n));
    return k;
  }

  /**
   * pickFused for a streamed funnel (a masker with entry runs): the picked rows into `picked`
   * and their bits and actor ids by position into `out` (see DenseRows), chains marked
   * (annotateChains). Behind a block cache the pick is kept as a DensePick with the column's
   * block, so a repeated funnel reads neither the column nor the row group's actor ids.
   * Returns how many rows were picked, or −1 (use `compute`, then gatherDense).
   */
  pickDense(r: RowGroupReader, n: number, bits: Uint32Array, picked: Uint32Array, keep: Uint8Array | null, out: DenseRows): number {
    if (this.columns.length !== 1 || this.general.length !== 0) return -1;
    const memo = this.keptPick(r) as DensePick | undefined;
    if (memo !== undefined) return restoreDense(memo, picked, out);
    const k = this.pickNow(r, n, bits, picked, keep);
    if (k < 0) return -1;
    const base = gatherDense(picked, k, bits, r.actorIds(), out);
    if (this.keepsPick(r, n)) {
      // Marking chains and ordering units cost about what the funnel then saves on one run: only picks kept for later runs get them.
      const units = this.chains ? (annotateChains(k, out.bits, out.actors), orderUnits(k, out.bits, out.actors, this.verdictOf.length)) : null;
      this.keepPick(r, MEMO_OVERHEAD_BYTES + densePickBytes(k, base) + (units === null ? 0 : unitOrderBytes(units)), () => packDense(picked, out, k, base, units));
      out.units = units;
    }
    return k;
  }

  /** The pick kept with the current row group's step column block under this masker's memo name, if any. */
  private keptPick(r: RowGroupReader): unknown {
    const source = r.source!;
    return source.memo === undefined || this.memoName === null ? undefined : source.memo(this.columns[0].ref.name, r.group, this.memoName);
  }

  /** Whether a pick of the current row group (n rows) is kept as a memo: behind a block cache, picks named, row numbers in 16 bits. */
  private keepsPick(r: RowGroupReader, n: number): boolean {
    return r.source!.keepMemo !== undefined && this.memoName !== null && n <= MEMO_MAX_ROWS;
  }

  /** Offers the cache the pick `make` returns (about `bytes`) with the current row group's step column block (keepsPick). */
  private keepPick(r: RowGroupReader, bytes: number, make: () => unknown): void {
    r.source!.keepMemo!(this.columns[0].ref.name, r.group, this.memoName!, bytes, make);
  }

  /** The fused pick without memos (see pickFused): −1 when the filters are of another shape. */
  private pickNow(r: RowGroupReader, n: number, bits: Uint32Array, picked: Uint32Array, keep: Uint8Array | null): number {
    const vec = r.column(this.columns[0].ref);
    if (vec === null || vec.type !== 'string' || vec.validity !== null) return -1;
    const table = this.table(this.columns[0], vec.dict);
    const codes = vec.codes;
    const k = keep === null ? pickFusedAll(table, codes, n, bits, picked) : pickFusedKept(table, codes, n, bits, picked, keep, r.actorIds());
    return this.collapse(r, picked, k, bits);
  }

  /** With entry runs (see the constructor), collapses rows[0 … m) of the current row group in place (collapseEntryRuns); returns how many rows are left. */
  collapse(r: RowGroupReader, rows: Uint32Array, m: number, bits: Uint32Array): number {
    const e = this.entryRuns;
    if (e === null || m < 3) return m;
    const ranged = e.fromMs > -Infinity || e.toMs < Infinity;
    const times = ranged ? (r.column({ kind: 'time' }) as Extract<ColumnVector, { type: 'time' }>).values : null;
    return collapseEntryRuns(rows, m, bits, r.actorIds(), times, e.fromMs, e.toMs);
  }

  /** Writes the bits of rows 0 … n−1 of the current row group into `bits`. */
  compute(r: RowGroupReader, n: number, bits: Uint32Array, verdicts: readonly number[]): void {
    let written = false;
    const constBits = this.constBits; // in every table entry, and OR-ed in where a null masks the entry out
    for (const col of this.columns) {
      const vec = r.column(col.ref);
      if (vec === null || vec.type !== 'string') continue; // every row null: no bits
      const table = this.table(col, vec.dict);
      const { codes, validity } = vec;
      if (!written) {
        // bits[i] = table[codes[i]] (only the constant bits where null)
        if (validity === null) for (let i = 0; i < n; i++) bits[i] = table[codes[i]];
        else for (let i = 0; i < n; i++) bits[i] = (table[codes[i]] & -((validity[i >> 3] >> (i & 7)) & 1)) | constBits;
        written = true;
      } else if (validity === null) {
        for (let i = 0; i < n; i++) bits[i] |= table[codes[i]];
      } else {
        for (let i = 0; i < n; i++) bits[i] |= (table[codes[i]] & -((validity[i >> 3] >> (i & 7)) & 1)) | constBits;
      }
    }
    if (!written) bits.fill(this.constBits, 0, n);
    for (const { index, eval: ev } of this.general) {
      const bit = 1 << index;
      const v = verdicts[index];
      if (v === NONE) continue;
      const { n: k, sel } = v === ALL ? { n, sel: null } : ev.select(r);
      if (sel === null) for (let i = 0; i < k; i++) bits[i] |= bit;
      else for (let i = 0; i < k; i++) bits[sel[i]] |= bit;
    }
  }
}

/** Writes the selected rows (all rows 0 … n−1 when `sel` is null) with some bit set into `out`; returns how many. */
export function pickMatching(bits: Uint32Array, sel: Uint32Array | null, n: number, out: Uint32Array): number {
  let m = 0;
  if (sel === null) {
    // if (bits[i] !== 0) out[m++] = i
    for (let i = 0; i < n; i++) {
      out[m] = i;
      m += bits[i] === 0 ? 0 : 1;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const r = sel[i];
      out[m] = r;
      m += bits[r] === 0 ? 0 : 1;
    }
  }
  return m;
}

/** pickMatching restricted to the rows of kept actors. */
export function pickMatchingKept(bits: Uint32Array, sel: Uint32Array | null, n: number, ids: Uint32Array, keep: Uint8Array, out: Uint32Array): number {
  let m = 0;
  for (let i = 0; i < n; i++) {
    const r = sel === null ? i : sel[i];
    out[m] = r;
    m += bits[r] === 0 ? 0 : keep[ids[r]];
  }
  return m;
}

/** pickFused's loop: a row is picked when some bit is set. */
function pickFusedAll(table: Uint32Array, codes: Uint32Array, n: number, bits: Uint32Array, picked: Uint32Array): number {
  let k = 0;
  // bits[i] = table[codes[i]]; if (bits[i] !== 0) picked[k++] = i  (branch-free: bits < 2^31)
  for (let i = 0; i < n; i++) {
    const m = table[codes[i]];
    bits[i] = m;
    picked[k] = i;
    k += (m | -m) >>> 31;
  }
  return k;
}

/** pickFused's loop for a sample: a row is picked when some bit is set and its actor is kept. */
function pickFusedKept(table: Uint32Array, codes: Uint32Array, n: number, bits: Uint32Array, picked: Uint32Array, keep: Uint8Array, ids: Uint32Array): number {
  let k = 0;
  // bits[i] = table[codes[i]]; if (bits[i] !== 0 && keep[ids[i]] === 1) picked[k++] = i
  for (let i = 0; i < n; i++) {
    const m = table[codes[i]];
    bits[i] = m;
    picked[k] = i;
    k += ((m | -m) >>> 31) & keep[ids[i]];
  }
  return k;
}

/**
 * Drops from the picked rows rows[0 … m) — in the order a stream delivers them, each actor's
 * rows in time order (a segment's by actor, a tail's with actors interleaved) — the rows that
 * cannot change a streamed ordered funnel's state; returns how many are left, in order, at the
 * front of `rows`. A row whose only bit is the first step's (bits exactly 1) does one thing:
 * inside [fromMs, toMs) it sets the actor's latest entry time, which only a row with the second
 * step's bit reads (and the first such row may be the actor's entry). So within a stretch of
 * one actor's consecutive rows, such a row is dropped when it lies outside the range, or when
 * a later row of the stretch sets the entry time again (an in-range row with the first step's
 * bit and not the second's) before any row reads it — unless it is the stretch's first in-range
 * row with the first step's bit (a possible entry). The last one of a stretch stays: the
 * actor's next rows (next row group, or later in a tail) may read it. In the generator's product
 * events this leaves a 3-step funnel about two thirds of its picked rows, and with them a share
 * of the per-actor loop's mispredicted branches (FunnelStream.add). `times` is needed only for a
 * finite range (null otherwise: every row is inside).
 */
export function collapseEntryRuns(rows: Uint32Array, m: number, bits: Uint32Array, ids: Uint32Array, times: Float64Array | null, fromMs: number, toMs: number): number {
  if (dropFlags.length < m) dropFlags = new Uint8Array(Math.max(m, 2 * dropFlags.length));
  const drop = dropFlags;
  // Both passes without branches on the data (0/1 integers for the conditions): whether a row
  // matches only the first step, or also the second, is what a processor mispredicts here.
  // Backward, stretch by stretch: `read` — a later row of the stretch reads the entry time
  // before another sets it (the stretch's last row: what follows may read).
  let read = 1;
  let next = -1;
  for (let j = m - 1; j >= 0; j--) {
    const r = rows[j];
    const a = ids[r];
    const b = bits[r];
    const inside = times === null ? 1 : Number(times[r] >= fromMs) & Number(times[r] < toMs);
    read |= Number(a !== next);
    // Equivalent to:
    //   if (b === 1) { drop = !(inside && read); if (inside) read = false }
    //   else if (b has the second step) read = true  (read before the row's own first step:
    //     FunnelStream.add visits steps from the highest down)
    //   else if (b has the first step && inside) read = false
    drop[j] = Number(b === 1) & ((inside & read) ^ 1);
    read = ((b >>> 1) & 1) | (read & ((b & 1 & inside) ^ 1));
    next = a;
  }
  // Forward: keep each stretch's first in-range first-step row, and compact.
  let out = 0;
  let entered = 0;
  let prev = -1;
  for (let j = 0; j < m; j++) {
    const r = rows[j];
    const a = ids[r];
    const inside = times === null ? 1 : Number(times[r] >= fromMs) & Number(times[r] < toMs);
    entered &= Number(a === prev);
    const entry = (entered ^ 1) & bits[r] & 1 & inside;
    entered |= entry;
    rows[out] = r;
    out += (drop[j] ^ 1) | entry;
    prev = a;
  }
  // A merged batch may be millions of rows: only a row group's worth of flags is kept.
  if (drop.length > 1 << 17) dropFlags = new Uint8Array(0);
  return out;
}

/**
 * Marks the chains among the first m picked rows, by position (DenseRows, in delivery order,
 * as collapseEntryRuns leaves them): a chain is 2 to MAX_CHAIN consecutive rows of one actor
 * that each match one step, the steps k, k + 1, … in turn — in product events a page view,
 * then a search, then an item view. Its first row's bits get the chain's length − 1 at
 * CHAIN_SHIFT, so FunnelStream.add takes the chain's rows in one go rather than deciding row by
 * row what each one is, a decision the processor mispredicts often. Each row's own step bits
 * stay as they are; a chain is cut after MAX_CHAIN rows. For bits below 2^CHAIN_SHIFT (at most
 * CHAIN_SHIFT steps), none annotated yet. The marking (~4 ns a row) costs about what the
 * funnel then saves on one run, so only picks kept as a memo are marked (pickDense): the runs
 * that are served the memo get the chains for nothing.
 */
export function annotateChains(m: number, bits: Uint32Array, ids: Uint32Array): void {
  // One pass without branches on the data (0/1 integers for the conditions): each row either
  // takes the current chain one step on, adding one to the length its first row keeps, or
  // starts a chain of its own.
  let prevActor = -1;
  let prevBits = 0;
  let at = 0; // the row's position in its chain
  let first = 0;
  for (let j = 0; j < m; j++) {
    const b = bits[j];
    const a = ids[j];
    // Same actor, the previous row one step only, this row the next step only, room left.
    const on = Number(a === prevActor) & Number(b === prevBits << 1) & Number((prevBits & (prevBits - 1)) === 0) & Number(at < MAX_CHAIN - 1);
    bits[first] += on << CHAIN_SHIFT;
    first += (j - first) * (1 - on);
    at = (at + 1) * on;
    prevActor = a;
    prevBits = b;
  }
}

/** collapseEntryRuns's per-row flags (this thread's, grown as needed). */
let dropFlags = new Uint8Array(0);

/** A row group's picked rows and every row's filter bits, as pickFused keeps them with the column's block. */
interface PickMemo {
  rows: Uint16Array;
  bits: Uint8Array;
}

/** Largest row group whose picks are kept (row numbers in 16 bits; segments write 65,536-row groups). */
const MEMO_MAX_ROWS = 1 << 16;
/** A memo's bytes beyond its arrays (objects, buffers, the cache's map entry), roughly. */
const MEMO_OVERHEAD_BYTES = 256;

/** The memo of a pick: rows[0 … k) of `picked` and the bits of rows 0 … n−1 (each below 2^8). */
function packPick(bits: Uint32Array, picked: Uint32Array, k: number, n: number): PickMemo {
  const memo = { rows: new Uint16Array(k), bits: new Uint8Array(n) };
  memo.rows.set(picked.subarray(0, k));
  memo.bits.set(bits.subarray(0, n));
  return memo;
}

/**
 * Writes a memo's rows into `picked` and its bits into `bits`; returns how many rows. Whole
 * arrays through `set` (a native widening copy), several times faster than scattering only the
 * picked rows' bits, for a byte a row more.
 */
function restorePick(memo: PickMemo, bits: Uint32Array, picked: Uint32Array): number {
  picked.set(memo.rows);
  bits.set(memo.bits);
  return memo.rows.length;
}
