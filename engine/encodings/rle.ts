/**
 * Run-length encoding (id 5), for sorted or slowly changing columns: dense actor ids sorted
 * ascending, booleans, status codes. A run is a maximal stretch of equal values (float64 by bit
 * pattern). Run lengths are stored as `length - minLength`, bit-packed. u32/u8 run values are
 * bit-packed too, in whichever of two forms is narrower: `value - min` (mode 0), or each run's
 * wrapping difference from the previous run's value minus the smallest such step (mode 1: an
 * ascending dense id column has every step 1, so its values take 0 bits).
 *
 * Layout, u32 and u8 (20-byte header):
 *   0   u32  run count r
 *   4   u8   value width vw (0..32)
 *   5   u8   length width lw (0..32)
 *   6   u8   value mode (0 or 1)
 *   7   1 zero byte
 *   8   u32  mode 0: min run value; mode 1: first run value
 *   12  i32  mode 1: min step (0 in mode 0)
 *   16  u32  minLength
 *   20  packed stream of run values at vw bits (r of them in mode 0, r - 1 in mode 1)
 *   ..  packed stream of r length residuals at lw bits
 *
 * Layout, f64 (16-byte header):
 *   0   u32  run count r
 *   4   u8   length width lw (0..32)
 *   5   3 zero bytes
 *   8   u32  minLength
 *   12  4 zero bytes
 *   16  r × f64 run values (raw bit patterns)
 *   ..  packed stream of r length residuals at lw bits
 */
import type { Encoding, PhysicalKind } from './encoding.js';
import { bitWidth, packedWords, pack, unpack, unpackPrefix } from './bit-pack.js';
import { f64At, headerOf, newBlock, outputFor, scratchU32, SLOT_VALUES, SLOT_VALUES_2, SLOT_WORDS, SLOT_WORDS_2, wordsAt } from './block-io.js';
import { runsOf, type Runs } from './runs.js';

type Values = Float64Array | Uint32Array | Uint8Array;

const NAME = 'rle';

/** How a block's runs would be stored: value mode and widths (value width unused for f64). */
interface Plan {
  runs: Runs;
  mode: 0 | 1;
  valueWidth: number;
  lengthWidth: number;
}

function plan(values: Values, kind: PhysicalKind, keep: boolean): Plan {
  const runs = runsOf(values, kind, keep);
  const lengthWidth = bitWidth(runs.maxLength - runs.minLength);
  const byValue = bitWidth(runs.maxValue - runs.minValue);
  const byStep = bitWidth(runs.maxStep - runs.minStep);
  const r = runs.count;
  const mode = packedWords(Math.max(0, r - 1), byStep) < packedWords(r, byValue) ? 1 : 0;
  return { runs, mode, valueWidth: mode === 1 ? byStep : byValue, lengthWidth };
}

function valueCount(p: Plan): number {
  return p.mode === 1 ? Math.max(0, p.runs.count - 1) : p.runs.count;
}

function encodedSize(p: Plan, kind: PhysicalKind): number {
  const r = p.runs.count;
  const lengths = 4 * packedWords(r, p.lengthWidth);
  if (kind === 'f64') return 16 + 8 * r + lengths;
  return 20 + 4 * packedWords(valueCount(p), p.valueWidth) + lengths;
}

function encodeRuns(values: Values, kind: PhysicalKind, p: Plan): Uint8Array {
  const { runs } = p;
  const r = runs.count;
  const block = newBlock(encodedSize(p, kind));
  const view = block.view;
  view.setUint32(0, r, true);
  const lengths = new Uint32Array(r);
  for (let k = 0; k < r; k++) lengths[k] = runs.lengths[k] - runs.minLength;
  if (kind === 'f64') {
    view.setUint8(4, p.lengthWidth);
    view.setUint32(8, runs.minLength, true);
    const table = new Float64Array(block.bytes.buffer, 16, r);
    for (let k = 0; k < r; k++) table[k] = values[runs.starts[k]];
    pack(lengths, r, p.lengthWidth, block.words, (16 + 8 * r) / 4);
    return block.bytes;
  }
  view.setUint8(4, p.valueWidth);
  view.setUint8(5, p.lengthWidth);
  view.setUint8(6, p.mode);
  view.setUint32(16, runs.minLength, true);
  const n = valueCount(p);
  const residuals = new Uint32Array(n);
  if (p.mode === 0) {
    view.setUint32(8, runs.minValue, true);
    for (let k = 0; k < r; k++) residuals[k] = values[runs.starts[k]] - runs.minValue;
  } else {
    view.setUint32(8, r > 0 ? values[0] : 0, true);
    view.setInt32(12, runs.minStep, true);
    for (let k = 1; k < r; k++) residuals[k - 1] = ((values[runs.starts[k]] - values[runs.starts[k - 1]]) | 0) - runs.minStep;
  }
  pack(residuals, n, p.valueWidth, block.words, 5);
  pack(lengths, r, p.lengthWidth, block.words, 5 + packedWords(n, p.valueWidth));
  return block.bytes;
}

/** Writes each run value `lengths[k]` times; throws unless the runs cover exactly rowCount rows. */
function expand(runValues: Float64Array | Uint32Array, lengths: Uint32Array, r: number, out: Values, rowCount: number): void {
  let pos = 0;
  let k = 0;
  // While 8 rows fit, a run first writes 8 copies whatever its length (the next runs overwrite
  // the excess, they cover every later row), so short runs, the common case, take no branch on
  // their length; longer runs write the rest after.
  for (const safe = rowCount - 8; k < r && pos <= safe; k++) {
    const v = runValues[k];
    const len = lengths[k];
    out[pos] = v;
    out[pos + 1] = v;
    out[pos + 2] = v;
    out[pos + 3] = v;
    out[pos + 4] = v;
    out[pos + 5] = v;
    out[pos + 6] = v;
    out[pos + 7] = v;
    if (len > 8) {
      const end = pos + len;
      if (end > rowCount) break;
      if (len > 64) out.fill(v, pos + 8, end);
      else for (let i = pos + 8; i < end; i++) out[i] = v;
    }
    pos += len;
  }
  // The last rows, run by run within bounds.
  for (; k < r; k++) {
    const end = pos + lengths[k];
    if (end > rowCount) break;
    const v = runValues[k];
    for (let i = pos; i < end; i++) out[i] = v;
    pos = end;
  }
  if (k < r) throw new Error(`${NAME}: runs cover more than ${rowCount} rows`);
  if (pos !== rowCount) throw new Error(`${NAME}: runs cover ${pos} rows, expected ${rowCount}`);
}

function decodeInts(bytes: Uint8Array, rowCount: number, out: Uint32Array | Uint8Array): void {
  const header = headerOf(bytes, 20, NAME);
  const r = header.getUint32(0, true);
  const valueWidth = header.getUint8(4);
  const lengthWidth = header.getUint8(5);
  const mode = header.getUint8(6);
  if (r > rowCount || valueWidth > 32 || lengthWidth > 32 || mode > 1) throw new Error(`${NAME}: bad header`);
  const n = mode === 1 ? Math.max(0, r - 1) : r;
  const valueWords = packedWords(n, valueWidth);
  const runValues = scratchU32(SLOT_VALUES, r);
  if (mode === 0) {
    unpack(wordsAt(bytes, 20, valueWords, SLOT_WORDS, NAME), 0, valueWidth, r, runValues, 0, header.getUint32(8, true));
  } else if (r > 0) {
    runValues[0] = header.getUint32(8, true);
    // runValues[k] = runValues[k - 1] + minStep + step residual k, modulo 2^32
    unpackPrefix(wordsAt(bytes, 20, valueWords, SLOT_WORDS, NAME), 0, valueWidth, n, runValues, 1, header.getInt32(12, true));
  }
  const lengths = scratchU32(SLOT_VALUES_2, r);
  const lengthWords = wordsAt(bytes, 20 + 4 * valueWords, packedWords(r, lengthWidth), SLOT_WORDS_2, NAME);
  unpack(lengthWords, 0, lengthWidth, r, lengths, 0, header.getUint32(16, true));
  expand(runValues, lengths, r, out, rowCount);
}

function decodeF64(bytes: Uint8Array, rowCount: number, out: Float64Array): void {
  const header = headerOf(bytes, 16, NAME);
  const r = header.getUint32(0, true);
  const lengthWidth = header.getUint8(4);
  if (r > rowCount || lengthWidth > 32) throw new Error(`${NAME}: bad header`);
  const runValues = f64At(bytes, 16, r, SLOT_WORDS, NAME);
  const lengths = scratchU32(SLOT_VALUES_2, r);
  const lengthWords = wordsAt(bytes, 16 + 8 * r, packedWords(r, lengthWidth), SLOT_WORDS_2, NAME);
  unpack(lengthWords, 0, lengthWidth, r, lengths, 0, header.getUint32(8, true));
  expand(runValues, lengths, r, out, rowCount);
}

export const rle: Encoding = {
  id: 5,
  name: NAME,
  kinds: ['f64', 'u32', 'u8'],

  analyze(values: Values, kind: PhysicalKind): number {
    return encodedSize(plan(values, kind, false), kind);
  },

  encode(values: Values, kind: PhysicalKind): Uint8Array {
    return encodeRuns(values, kind, plan(values, kind, true));
  },

  decode(bytes: Uint8Array, kind: PhysicalKind, rowCount: number, out?: Values): Values {
    const target = outputFor(kind, rowCount, out);
    if (kind === 'f64') decodeF64(bytes, rowCount, target as Float64Array);
    else decodeInts(bytes, rowCount, target as Uint32Array | Uint8Array);
    return target;
  },
};
