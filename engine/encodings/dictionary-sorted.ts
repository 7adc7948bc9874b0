/**
 * Sorted dictionary encoding (id 10) for float64 blocks with few distinct values: latencies
 * (30.8, 189), prices, statuses. Like dictionary-f64 (which it replaces for writing) it stores a
 * table of the distinct values and a bit-packed code per row, but when every distinct value is a
 * short decimal the table is sorted and stored compactly: as the scaled integers
 * `Math.round(v * 10^e)` (the decimal encoding's exponent, checked the same way), ascending, in
 * whichever of frame-of-reference, delta or delta-split is smallest. A latency block's ~1,600
 * distinct values then cost ~5 bits each instead of 64. Decoding computes `s / 10^e`, the
 * expression that was checked, so values round-trip bit for bit. Other tables (NaN, ±Infinity,
 * -0, long fractions) are stored raw, in order of first appearance, as dictionary-f64 stores them.
 *
 * Refuses more than 65536 distinct values and, as dictionary-f64 does, more distinct values than
 * 3/4 of the rows.
 *
 * Layout (12-byte header):
 *   0   u32  distinct count d (0 only for an empty block)
 *   4   u8   code width w (0..16)
 *   5   u8   exponent e (0..4), or 255 for a raw table
 *   6   u8   table encoding id (for-bitpack, delta-bitpack or delta-split; plain for a raw table)
 *   7   1 zero byte
 *   8   u32  table byte length t
 *   12  table: the d scaled values ascending, or the d raw values, in the table encoding
 *   ..  zero padding to a multiple of 4 bytes
 *   ..  packed stream of rowCount codes at w bits (bit-pack.ts)
 */
import type { Encoding, PhysicalKind } from './encoding.js';
import { bitWidth, packedWords, pack, unpack } from './bit-pack.js';
import { headerOf, outputFor, requireBytes, scratchF64, scratchU32, SLOT_NESTED, SLOT_NESTED_2, SLOT_WORDS, wordsAt } from './block-io.js';
import { POW10, scaleOf } from './decimal.js';
import { deltaBitpack } from './delta-bitpack.js';
import { deltaSplit } from './delta-split.js';
import { distinct, gather, limitFor } from './dictionary-f64.js';
import { forBitpack } from './for-bitpack.js';
import { plain } from './plain.js';

type Values = Float64Array | Uint32Array | Uint8Array;

const NAME = 'dictionary-sorted';
const HEADER_BYTES = 12;
const TABLE_ENCODINGS: readonly Encoding[] = [forBitpack, deltaBitpack, deltaSplit];
/** Exponent byte of a raw table. */
const RAW = 255;

interface Plan {
  /** Row of each distinct value's first appearance (dictionary-f64's `distinct`). */
  firstRows: Uint32Array;
  /** 0..4, or RAW. */
  exponent: number;
  /** The scaled distinct values ascending, or the raw ones in order of first appearance. */
  table: Float64Array;
  tableEncoding: Encoding;
  tableBytes: number;
  width: number;
  sizeBytes: number;
}

function align4(bytes: number): number {
  return (bytes + 3) & ~3;
}

/** The block's sorted table and sizes, or null when the encoding cannot hold it. */
function planOf(values: Float64Array, codes: Uint32Array | null): Plan | null {
  const n = values.length;
  const firstRows = distinct(values, limitFor(n), codes);
  if (firstRows === null) return null;
  const d = firstRows.length;
  const distinctValues = new Float64Array(d);
  for (let k = 0; k < d; k++) distinctValues[k] = values[firstRows[k]];
  const scale = scaleOf(distinctValues);
  const width = bitWidth(Math.max(0, d - 1));
  if (scale === null) {
    const tableBytes = plain.analyze(distinctValues, 'f64')!;
    const sizeBytes = HEADER_BYTES + align4(tableBytes) + 4 * packedWords(n, width);
    return { firstRows, exponent: RAW, table: distinctValues, tableEncoding: plain, tableBytes, width, sizeBytes };
  }
  const p = POW10[scale.exponent];
  const table = new Float64Array(d);
  for (let k = 0; k < d; k++) table[k] = Math.round(distinctValues[k] * p);
  table.sort();
  let tableEncoding = forBitpack;
  let tableBytes = Infinity;
  for (const encoding of TABLE_ENCODINGS) {
    const size = encoding.analyze(table, 'f64');
    if (size !== null && size < tableBytes) {
      tableEncoding = encoding;
      tableBytes = size;
    }
  }
  const sizeBytes = HEADER_BYTES + align4(tableBytes) + 4 * packedWords(n, width);
  return { firstRows, exponent: scale.exponent, table, tableEncoding, tableBytes, width, sizeBytes };
}

/** Index of `x` in the ascending, distinct `table` (present by construction). */
function indexOf(table: Float64Array, x: number): number {
  let lo = 0;
  let hi = table.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (table[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The table in `encoding`, each encoding called from a call site of its own. One call site
 * through `encoding.encode` sent V8 into a deoptimization loop ("wrong call target"): a flush
 * worker re-optimized encodeBlock hundreds of times per flush (~10 ms of compilation each).
 */
function encodeTable(encoding: Encoding, table: Float64Array): Uint8Array {
  if (encoding === forBitpack) return forBitpack.encode(table, 'f64');
  if (encoding === deltaBitpack) return deltaBitpack.encode(table, 'f64');
  if (encoding === deltaSplit) return deltaSplit.encode(table, 'f64');
  return plain.encode(table, 'f64');
}

function encodeBlock(values: Float64Array): Uint8Array {
  const n = values.length;
  const codes = new Uint32Array(n);
  const plan = planOf(values, codes);
  if (plan === null) throw new Error(`${NAME}: values are not short decimals with few distinct values`);
  const { firstRows, table, width } = plan;
  if (plan.exponent !== RAW) {
    // First-appearance code → position of its scaled value in the sorted table.
    const p = POW10[plan.exponent];
    const rank = new Uint32Array(firstRows.length);
    for (let k = 0; k < firstRows.length; k++) rank[k] = indexOf(table, Math.round(values[firstRows[k]] * p));
    for (let i = 0; i < n; i++) codes[i] = rank[codes[i]];
  }
  const buffer = new ArrayBuffer(align4(plan.sizeBytes));
  const bytes = new Uint8Array(buffer, 0, plan.sizeBytes);
  const view = new DataView(buffer);
  view.setUint32(0, firstRows.length, true);
  view.setUint8(4, width);
  view.setUint8(5, plan.exponent);
  view.setUint8(6, plan.tableEncoding.id);
  view.setUint32(8, plan.tableBytes, true);
  bytes.set(encodeTable(plan.tableEncoding, table), HEADER_BYTES);
  const codesAt = HEADER_BYTES + align4(plan.tableBytes);
  pack(codes, n, width, new Uint32Array(buffer), codesAt / 4);
  return bytes;
}

function decodeBlockInto(bytes: Uint8Array, rowCount: number, out: Float64Array): void {
  const header = headerOf(bytes, HEADER_BYTES, NAME);
  const d = header.getUint32(0, true);
  const width = header.getUint8(4);
  const exponent = header.getUint8(5);
  const raw = exponent === RAW;
  const tableEncoding = raw ? (header.getUint8(6) === plain.id ? plain : undefined) : TABLE_ENCODINGS.find((e) => e.id === header.getUint8(6));
  const tableBytes = header.getUint32(8, true);
  if (tableEncoding === undefined || d > 65536 || width > 16 || (!raw && exponent >= POW10.length) || (rowCount > 0 && d === 0)) {
    throw new Error(`${NAME}: bad header`);
  }
  requireBytes(bytes, HEADER_BYTES + tableBytes, NAME);
  // The table decoder uses the lower scratch slots; the table and codes live in the nested ones.
  const table = tableEncoding.decode(bytes.subarray(HEADER_BYTES, HEADER_BYTES + tableBytes), 'f64', d, scratchF64(SLOT_NESTED, d)) as Float64Array;
  // table[k] = scaled / 10^e, the expression the encoder checked
  if (!raw && exponent > 0) {
    const p = POW10[exponent];
    for (let k = 0; k < d; k++) table[k] /= p;
  }
  const words = wordsAt(bytes, HEADER_BYTES + align4(tableBytes), packedWords(rowCount, width), SLOT_WORDS, NAME);
  const codes = scratchU32(SLOT_NESTED_2, rowCount);
  unpack(words, 0, width, rowCount, codes, 0, 0);
  gather(table, codes, rowCount, out, NAME);
}

export const dictionarySorted: Encoding = {
  id: 10,
  name: NAME,
  kinds: ['f64'],

  analyze(values: Values, kind: PhysicalKind): number | null {
    if (kind !== 'f64') return null;
    return planOf(values as Float64Array, null)?.sizeBytes ?? null;
  },

  encode(values: Values, kind: PhysicalKind): Uint8Array {
    if (kind !== 'f64') throw new Error(`${NAME}: unsupported kind ${kind}`);
    return encodeBlock(values as Float64Array);
  },

  decode(bytes: Uint8Array, kind: PhysicalKind, rowCount: number, out?: Values): Values {
    if (kind !== 'f64') throw new Error(`${NAME}: unsupported kind ${kind}`);
    const target = outputFor(kind, rowCount, out) as Float64Array;
    decodeBlockInto(bytes, rowCount, target);
    return target;
  },
};
