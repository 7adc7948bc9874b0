/**
 * A quantile sketch with relative accuracy (the DDSketch construction, written out so that the
 * state is plain data and quantiles follow the nearest-rank definition exactly):
 * nonzero values fall in logarithmic bins, bin k of |v| covering (γ^(k−1), γ^k] with
 * γ = (1+α)/(1−α); the bin's representative 2γ^k/(γ+1) is within α of every value in it.
 * Negative values go to a mirrored store, zeros to a counter. The quantile q is the value of
 * nearest rank ⌈q·n⌉ (1-based): the sketch finds the bin holding that rank and returns its
 * representative, clamped to the exact min and max, so the answer is within α of the
 * nearest-rank value. α is 0.99% (a margin under the documented 1% for float rounding at bin edges).
 *
 * State is plain data (numbers and Float64Arrays): it survives structured clone, and `mergeSketch`
 * adds bins, which is associative and exact.
 */

export const SKETCH_RELATIVE_ACCURACY = 0.0099;
const GAMMA = (1 + SKETCH_RELATIVE_ACCURACY) / (1 - SKETCH_RELATIVE_ACCURACY);
const INV_LN_GAMMA = 1 / Math.log(GAMMA);

/** Bins offset … offset+counts.length−1 of one sign. */
export interface BinStore {
  offset: number;
  counts: Float64Array;
}

export interface SketchState {
  count: number;
  zeroCount: number;
  min: number;
  max: number;
  pos: BinStore;
  neg: BinStore;
}

export function createSketch(): SketchState {
  return { count: 0, zeroCount: 0, min: Infinity, max: -Infinity, pos: { offset: 0, counts: new Float64Array(0) }, neg: { offset: 0, counts: new Float64Array(0) } };
}

/** Grows a store (with slack on the side that grew) so that bins lo … hi are addressable. */
function reserve(s: BinStore, lo: number, hi: number): void {
  const len = s.counts.length;
  if (len > 0 && lo >= s.offset && hi < s.offset + len) return;
  let newLo = len === 0 ? lo : Math.min(lo, s.offset);
  let newHi = len === 0 ? hi : Math.max(hi, s.offset + len - 1);
  const slack = Math.max(8, (newHi - newLo + 1) >> 1);
  if (len === 0 || lo < s.offset) newLo -= slack;
  if (len === 0 || hi >= s.offset + len) newHi += slack;
  const next = new Float64Array(newHi - newLo + 1);
  if (len > 0) next.set(s.counts, s.offset - newLo);
  s.offset = newLo;
  s.counts = next;
}

/*
 * Bins are defined by their upper bounds: bin k is the smallest k with |v| ≤ γ^k, where γ^k is
 * Math.pow(GAMMA, k) (so every thread and shard agrees exactly). For 2^-64 ≤ |v| < 2^64 the
 * bin comes without Math.log: the float64 exponent plus a 4096-entry table of log2 of the
 * mantissa's top bits give log2|v| within 2^-12·1.5 (a bin is 0.028 wide in log2), so the
 * estimate is off by at most one bin, and one or two comparisons with the bounds table fix it.
 */
const LOG2_GAMMA = Math.log2(GAMMA);
const INV_LOG2_GAMMA = 1 / LOG2_GAMMA;
const FAST_EXP = 64;
const K_LO = Math.floor(-FAST_EXP / LOG2_GAMMA) - 4;
const K_HI = Math.ceil(FAST_EXP / LOG2_GAMMA) + 4;
const BOUNDS = new Float64Array(K_HI - K_LO + 1);
for (let k = K_LO; k <= K_HI; k++) BOUNDS[k - K_LO] = Math.pow(GAMMA, k);
const LOG2_MANTISSA = new Float64Array(4096);
for (let i = 0; i < 4096; i++) LOG2_MANTISSA[i] = Math.log2(1 + i / 4096);
const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
/** Index of the high 32-bit word of a float64 in U32 (1 on little-endian machines). */
const HIGH = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

/** The bin of an infinite value: one past the largest finite value's. */
const INFINITE_BIN = Math.ceil(Math.log(Number.MAX_VALUE) * INV_LN_GAMMA) + 1;

function slowBin(abs: number): number {
  if (abs === Infinity) return INFINITE_BIN;
  let k = Math.ceil(Math.log(abs) * INV_LN_GAMMA);
  while (abs > Math.pow(GAMMA, k)) k++;
  while (abs <= Math.pow(GAMMA, k - 1)) k--;
  return k;
}

/** The bin of a positive finite value (of its absolute value, for negatives). */
export function sketchBin(abs: number): number {
  F64[0] = abs;
  const hi = U32[HIGH];
  const e = (hi >>> 20) - 1023;
  if (e < -FAST_EXP || e >= FAST_EXP) return slowBin(abs);
  // ceil(log_γ |v|) estimated from exponent and mantissa, then fixed against the bounds
  let i = Math.ceil((e + LOG2_MANTISSA[(hi >>> 8) & 4095]) * INV_LOG2_GAMMA) - K_LO;
  while (abs > BOUNDS[i]) i++;
  while (abs <= BOUNDS[i - 1]) i--;
  return i + K_LO;
}

const binOf = sketchBin;

/** Adds one value `weight` times (NaN is ignored). */
export function sketchAdd(s: SketchState, v: number, weight = 1): void {
  if (v > 0) {
    const k = binOf(v);
    const st = s.pos;
    if (k < st.offset || k >= st.offset + st.counts.length) reserve(st, k, k);
    st.counts[k - st.offset] += weight;
  } else if (v < 0) {
    const k = binOf(-v);
    const st = s.neg;
    if (k < st.offset || k >= st.offset + st.counts.length) reserve(st, k, k);
    st.counts[k - st.offset] += weight;
  } else if (v === 0) {
    s.zeroCount += weight;
  } else {
    return;
  }
  s.count += weight;
  if (v < s.min) s.min = v;
  if (v > s.max) s.max = v;
}

function mergeStore(dst: BinStore, src: BinStore): void {
  const c = src.counts;
  let lo = -1;
  let hi = -1;
  for (let i = 0; i < c.length; i++) {
    if (c[i] !== 0) {
      if (lo < 0) lo = i;
      hi = i;
    }
  }
  if (lo < 0) return;
  reserve(dst, src.offset + lo, src.offset + hi);
  const shift = src.offset - dst.offset;
  for (let i = lo; i <= hi; i++) dst.counts[i + shift] += c[i];
}

/** Adds `src` into `dst`. */
export function mergeSketch(dst: SketchState, src: SketchState): void {
  if (src.count === 0) return;
  mergeStore(dst.pos, src.pos);
  mergeStore(dst.neg, src.neg);
  dst.zeroCount += src.zeroCount;
  dst.count += src.count;
  if (src.min < dst.min) dst.min = src.min;
  if (src.max > dst.max) dst.max = src.max;
}

/**
 * The representative 2γ^k/(γ+1), scaled before it is formed: 2γ^k overflowed for bins above
 * ~9e307. The top bin's bound γ^k passes the largest double; its representative is then taken
 * from the bin's lower bound (γ^(k−1)·2γ/(γ+1)), capped at the largest double, which lies in it.
 */
function representative(k: number): number {
  const r = (2 / (GAMMA + 1)) * Math.pow(GAMMA, k);
  return r !== Infinity ? r : Math.min(Number.MAX_VALUE, ((2 * GAMMA) / (GAMMA + 1)) * Math.pow(GAMMA, k - 1));
}

/** The nearest-rank q-quantile (q in (0,1)) within the sketch's relative accuracy; null when empty. */
export function sketchQuantile(s: SketchState, q: number): number | null {
  if (s.count === 0) return null;
  const rank = Math.max(1, Math.ceil(q * s.count - 1e-9));
  let seen = 0;
  let v = NaN;
  // Most negative first: the negative store holds |v|, so walk it from its highest bin down.
  const neg = s.neg.counts;
  for (let i = neg.length - 1; i >= 0 && Number.isNaN(v); i--) {
    seen += neg[i];
    if (seen >= rank) v = -representative(i + s.neg.offset);
  }
  if (Number.isNaN(v)) {
    seen += s.zeroCount;
    if (seen >= rank) v = 0;
  }
  const pos = s.pos.counts;
  for (let i = 0; i < pos.length && Number.isNaN(v); i++) {
    seen += pos[i];
    if (seen >= rank) v = representative(i + s.pos.offset);
  }
  if (Number.isNaN(v)) v = s.max;
  return Math.min(s.max, Math.max(s.min, v));
}

/** Approximate heap bytes held by a sketch. */
export function sketchBytes(s: SketchState): number {
  return 96 + 8 * (s.pos.counts.length + s.neg.counts.length);
}
