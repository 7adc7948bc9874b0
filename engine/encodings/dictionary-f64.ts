/**
 * Dictionary encoding (id 7) for float64 blocks with few distinct values (HTTP statuses stored as
 * numbers, ratings, catalog prices): a table of the distinct values, by bit pattern and in order
 * of first appearance, and each row's code into it, bit-packed at the fewest bits that hold
 * `distinct - 1` (8 bits for ≤ 256 values, 16 for ≤ 65536).
 *
 * Refuses more than 65536 distinct values, and gives up as soon as the distinct count passes 3/4
 * of the row count: the table alone would then cost 6 bytes a row and plain could not lose.
 * Distinct values are found with an open-addressing hash table on the two 32-bit halves of each
 * bit pattern (NaN payloads and -0 stay distinct, which a Map keyed by number would merge).
 *
 * Layout (8-byte header):
 *   0   u32  distinct count d (0 only for an empty block)
 *   4   u8   code width w (0..16)
 *   5   3 zero bytes
 *   8   d × f64 distinct values (raw bit patterns)
 *   ..  packed stream of rowCount codes at w bits (bit-pack.ts)
 */
import type { Encoding, PhysicalKind } from './encoding.js';
import { bitWidth, packedWords, pack, unpack } from './bit-pack.js';
import { f64At, headerOf, newBlock, outputFor, scratchU32, SLOT_VALUES, SLOT_WORDS, SLOT_WORDS_2, wordsAt } from './block-io.js';

type Values = Float64Array | Uint32Array | Uint8Array;

const NAME = 'dictionary-f64';
const MAX_DISTINCT = 65536;

/** Hash slots → code + 1 (0 = empty), reused across calls and cleared per use. */
let slots = new Int32Array(1024);

/**
 * Distinct values of `values` as the row of each one's first appearance, or null past `limit`.
 * Writes each row's code into `codes` when given.
 */
export function distinct(values: Float64Array, limit: number, codes: Uint32Array | null): Uint32Array | null {
  const n = values.length;
  const bits = new Uint32Array(values.buffer, values.byteOffset, 2 * n);
  const capacity = 2 ** Math.ceil(Math.log2(Math.max(16, 2 * limit)));
  if (slots.length < capacity) slots = new Int32Array(capacity);
  slots.fill(0, 0, capacity);
  const mask = capacity - 1;
  const firstRows = new Uint32Array(Math.min(limit, n));
  let count = 0;
  for (let i = 0; i < n; i++) {
    const lo = bits[2 * i];
    const hi = bits[2 * i + 1];
    let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
    h = (h ^ (h >>> 15)) & mask;
    // Linear probing: stop at an empty slot or at the slot holding this bit pattern.
    let code = -1;
    for (;;) {
      const entry = slots[h];
      if (entry === 0) break;
      const row = firstRows[entry - 1];
      if (bits[2 * row] === lo && bits[2 * row + 1] === hi) {
        code = entry - 1;
        break;
      }
      h = (h + 1) & mask;
    }
    if (code < 0) {
      if (count === limit) return null;
      code = count++;
      firstRows[code] = i;
      slots[h] = code + 1;
    }
    if (codes !== null) codes[i] = code;
  }
  return firstRows.subarray(0, count);
}

/** Distinct values the encoding accepts for a block of `n` rows. */
export function limitFor(n: number): number {
  return Math.min(MAX_DISTINCT, Math.max(1, Math.floor((n * 3) / 4)));
}

function encodedSize(n: number, d: number): number {
  return 8 + 8 * d + 4 * packedWords(n, bitWidth(Math.max(0, d - 1)));
}

export const dictionaryF64: Encoding = {
  id: 7,
  name: NAME,
  kinds: ['f64'],

  analyze(values: Values, kind: PhysicalKind): number | null {
    if (kind !== 'f64') return null;
    const firstRows = distinct(values as Float64Array, limitFor(values.length), null);
    return firstRows === null ? null : encodedSize(values.length, firstRows.length);
  },

  encode(values: Values, kind: PhysicalKind): Uint8Array {
    const n = values.length;
    const codes = new Uint32Array(n);
    const firstRows = kind === 'f64' ? distinct(values as Float64Array, limitFor(n), codes) : null;
    if (firstRows === null) throw new Error(`${NAME}: too many distinct values`);
    const d = firstRows.length;
    const width = bitWidth(Math.max(0, d - 1));
    const block = newBlock(encodedSize(n, d));
    block.view.setUint32(0, d, true);
    block.view.setUint8(4, width);
    const table = new Float64Array(block.bytes.buffer, 8, d);
    for (let k = 0; k < d; k++) table[k] = values[firstRows[k]];
    pack(codes, n, width, block.words, 2 + 2 * d);
    return block.bytes;
  },

  decode(bytes: Uint8Array, kind: PhysicalKind, rowCount: number, out?: Values): Values {
    if (kind !== 'f64') throw new Error(`${NAME}: unsupported kind ${kind}`);
    const header = headerOf(bytes, 8, NAME);
    const d = header.getUint32(0, true);
    const width = header.getUint8(4);
    if (d > MAX_DISTINCT || width > 16 || (rowCount > 0 && d === 0)) throw new Error(`${NAME}: bad header`);
    const target = outputFor(kind, rowCount, out) as Float64Array;
    const table = f64At(bytes, 8, d, SLOT_WORDS_2, NAME);
    const words = wordsAt(bytes, 8 + 8 * d, packedWords(rowCount, width), SLOT_WORDS, NAME);
    const codes = scratchU32(SLOT_VALUES, rowCount);
    unpack(words, 0, width, rowCount, codes, 0, 0);
    gather(table, codes, rowCount, target);
    return target;
  },
};

/** out[i] = table[codes[i]]; a code past the table (corrupt block) throws. */
export function gather(table: Float64Array, codes: Uint32Array, n: number, out: Float64Array, what = NAME): void {
  const d = table.length;
  let bad = 0;
  for (let i = 0; i < n; i++) {
    const code = codes[i];
    bad |= d - 1 - code; // negative when code ≥ d; no branch in the loop
    out[i] = table[code];
  }
  if (bad < 0) throw new Error(`${what}: code past the dictionary`);
}
