/**
 * Sparse encoding (id 9): a block with null rows stores only its valid rows' values, encoded by
 * the best of the dense encodings, and rebuilds the rest from the block's validity bitmap, which
 * the segment writer stores beside the values anyway. A column present on 15% of events then
 * costs its bitmap plus 15% of the values, where a dense encoding also pays for the filler
 * values of the other 85%.
 *
 * Null rows decode to the writer's filler (segment-writer gatherColumn): the previous valid
 * row's value, and before the first valid row the first valid value. The encoding accepts only
 * blocks whose null rows hold exactly that (by bit pattern), so it round-trips bit for bit like
 * every other encoding; a block with no null row or no valid row is refused.
 *
 * Layout (8-byte header):
 *   0   u8   inner encoding id (never sparse itself)
 *   1   3 zero bytes
 *   4   u32  valid row count k
 *   8   the inner encoding's bytes for the k valid values
 */
import type { Encoding, PhysicalKind } from './encoding.js';
import { headerOf, outputFor, scratchF64, scratchU32, scratchU8, SLOT_OUTER } from './block-io.js';

type Values = Float64Array | Uint32Array | Uint8Array;

const NAME = 'sparse';
const HEADER_BYTES = 8;
export const SPARSE_ID = 9;

/** Reusable array of `kind` in `slot`, at least `length` long. */
function scratchOf(kind: PhysicalKind, slot: number, length: number): Values {
  return kind === 'f64' ? scratchF64(slot, length) : kind === 'u32' ? scratchU32(slot, length) : scratchU8(slot, length);
}

/** 32-bit words of `values`' bit patterns (two per float64), so equality is by bit pattern. */
function bitWords(values: Values, kind: PhysicalKind): Uint32Array | Values {
  return kind === 'f64' ? new Uint32Array(values.buffer, values.byteOffset, values.length * 2) : values;
}

/**
 * The valid rows' values, compacted into scratch, or null when the block is not sparse-shaped:
 * no validity, no null row, no valid row, a bitmap too short, or a null row that does not hold
 * the writer's filler.
 */
function compact(values: Values, kind: PhysicalKind, validity: Uint8Array | null | undefined): Values | null {
  const n = values.length;
  if (validity === null || validity === undefined || validity.length < (n + 7) >> 3) return null;
  let first = -1;
  for (let b = 0; b < (n + 7) >> 3 && first < 0; b++) if (validity[b] !== 0) first = (b << 3) + 31 - Math.clz32(validity[b] & -validity[b]);
  if (first < 0 || first >= n) return null;
  const out = scratchOf(kind, SLOT_OUTER, n);
  const k = kind === 'f64'
    ? compactPairs(bitWords(values, kind) as Uint32Array, bitWords(out, kind) as Uint32Array, validity, n, first)
    : compactSingles(values as Uint32Array | Uint8Array, out as Uint32Array | Uint8Array, validity, n, first);
  return k < 0 || k === n ? null : out.subarray(0, k);
}

/**
 * compact's loop for 32- and 8-bit values: writes the valid rows' values to `out` and returns
 * how many, or −1 at a null row not holding the filler (the first valid value, then the latest).
 * A bitmap byte at a time: all valid (copy eight), all null (compare eight), or mixed (by bit).
 */
function compactSingles(src: Uint32Array | Uint8Array, out: Uint32Array | Uint8Array, validity: Uint8Array, n: number, first: number): number {
  let k = 0;
  let fill = src[first];
  const whole = n >> 3;
  for (let b = 0; b < whole; b++) {
    const v = validity[b];
    const base = b << 3;
    if (v === 0xff) {
      for (let i = base; i < base + 8; i++) out[k++] = src[i];
      fill = src[base + 7];
    } else if (v === 0) {
      for (let i = base; i < base + 8; i++) if (src[i] !== fill) return -1;
    } else {
      for (let i = base; i < base + 8; i++) {
        if (((v >> (i & 7)) & 1) !== 0) out[k++] = fill = src[i];
        else if (src[i] !== fill) return -1;
      }
    }
  }
  for (let i = whole << 3; i < n; i++) {
    if (((validity[i >> 3] >> (i & 7)) & 1) !== 0) out[k++] = fill = src[i];
    else if (src[i] !== fill) return -1;
  }
  return k;
}

/**
 * compactSingles for float64 values as pairs of 32-bit words (equality by bit pattern), a bitmap
 * byte at a time in the same way.
 */
function compactPairs(src: Uint32Array, out: Uint32Array, validity: Uint8Array, n: number, first: number): number {
  let k = 0;
  let lo = src[2 * first];
  let hi = src[2 * first + 1];
  const whole = n >> 3;
  for (let b = 0; b < whole; b++) {
    const v = validity[b];
    const base = b << 3;
    if (v === 0xff) {
      for (let w = 0; w < 16; w++) out[2 * k + w] = src[2 * base + w];
      k += 8;
      lo = src[2 * base + 14];
      hi = src[2 * base + 15];
    } else if (v === 0) {
      for (let i = base; i < base + 8; i++) if (src[2 * i] !== lo || src[2 * i + 1] !== hi) return -1;
    } else {
      for (let i = base; i < base + 8; i++) {
        if (((v >> (i & 7)) & 1) !== 0) {
          lo = out[2 * k] = src[2 * i];
          hi = out[2 * k + 1] = src[2 * i + 1];
          k++;
        } else if (src[2 * i] !== lo || src[2 * i + 1] !== hi) {
          return -1;
        }
      }
    }
  }
  for (let i = whole << 3; i < n; i++) {
    if (((validity[i >> 3] >> (i & 7)) & 1) !== 0) {
      lo = out[2 * k] = src[2 * i];
      hi = out[2 * k + 1] = src[2 * i + 1];
      k++;
    } else if (src[2 * i] !== lo || src[2 * i + 1] !== hi) {
      return -1;
    }
  }
  return k;
}

/** The smallest of `inner` for `values`, with its size. */
function bestInner(inner: readonly Encoding[], values: Values, kind: PhysicalKind): { encoding: Encoding; sizeBytes: number } {
  let best: Encoding | null = null;
  let bestSize = Infinity;
  for (const encoding of inner) {
    if (!encoding.kinds.includes(kind)) continue;
    const size = encoding.analyze(values, kind, null);
    if (size !== null && size < bestSize) {
      best = encoding;
      bestSize = size;
    }
  }
  if (best === null) throw new Error(`${NAME}: no inner encoding for ${kind}`);
  return { encoding: best, sizeBytes: bestSize };
}

/**
 * Expands `k` compacted values into `n` rows by the validity bitmap: valid rows take the next
 * value, null rows repeat the previous one (the first one before any valid row). Returns the
 * valid rows seen, which the caller checks against k.
 */
function expand(vals: Values, validity: Uint8Array, n: number, out: Values): number {
  let i = 0;
  // Leading nulls take the first value.
  while (i < n && (validity[i >> 3] & (1 << (i & 7))) === 0) out[i++] = vals[0];
  let j = -1;
  // Row by row until a byte boundary, then a byte of validity at a time.
  for (; i < n && (i & 7) !== 0; i++) {
    j += (validity[i >> 3] >> (i & 7)) & 1;
    out[i] = vals[j];
  }
  const fullEnd = n & ~7;
  for (; i < fullEnd; i += 8) {
    const byte = validity[i >> 3];
    if (byte === 0) {
      // Eight null rows: out.fill(vals[j], i, i + 8)
      const v = vals[j];
      out[i] = v; out[i + 1] = v; out[i + 2] = v; out[i + 3] = v;
      out[i + 4] = v; out[i + 5] = v; out[i + 6] = v; out[i + 7] = v;
    } else if (byte === 255) {
      out[i] = vals[j + 1]; out[i + 1] = vals[j + 2]; out[i + 2] = vals[j + 3]; out[i + 3] = vals[j + 4];
      out[i + 4] = vals[j + 5]; out[i + 5] = vals[j + 6]; out[i + 6] = vals[j + 7]; out[i + 7] = vals[j + 8];
      j += 8;
    } else {
      // j += bit; out[row] = vals[j], for each of the eight rows
      j += byte & 1; out[i] = vals[j];
      j += (byte >> 1) & 1; out[i + 1] = vals[j];
      j += (byte >> 2) & 1; out[i + 2] = vals[j];
      j += (byte >> 3) & 1; out[i + 3] = vals[j];
      j += (byte >> 4) & 1; out[i + 4] = vals[j];
      j += (byte >> 5) & 1; out[i + 5] = vals[j];
      j += (byte >> 6) & 1; out[i + 6] = vals[j];
      j += (byte >> 7) & 1; out[i + 7] = vals[j];
    }
  }
  for (; i < n; i++) {
    j += (validity[i >> 3] >> (i & 7)) & 1;
    out[i] = vals[j];
  }
  return j + 1;
}

type Expand = typeof expand;

/**
 * One copy of `expand` per output kind: a single function fed three array types would make its
 * element accesses polymorphic (measured 3–6× slower). Each copy is compiled from the same source,
 * so it has its own type feedback; the source has no free variables.
 */
const EXPANDERS: Record<PhysicalKind, Expand> = {
  f64: new Function(`return ${expand.toString()}`)() as Expand,
  u32: new Function(`return ${expand.toString()}`)() as Expand,
  u8: new Function(`return ${expand.toString()}`)() as Expand,
};

/** The block: header, then the valid values `vals` in `encoding`. */
function withHeader(encoding: Encoding, vals: Values, kind: PhysicalKind): Uint8Array {
  const body = encoding.encode(vals, kind, null);
  const bytes = new Uint8Array(HEADER_BYTES + body.length);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, encoding.id);
  view.setUint32(4, vals.length, true);
  bytes.set(body, HEADER_BYTES);
  return bytes;
}

/**
 * A sparse block whose valid values are in `encoding` (a dense encoding the caller chose
 * earlier), skipping the search for the best one; throws when the block is not sparse-shaped or
 * `encoding` cannot hold its values. The inner encoding's id is byte 0 of every sparse block.
 */
export function encodeSparseWith(encoding: Encoding, values: Values, kind: PhysicalKind, validity: Uint8Array | null): Uint8Array {
  const vals = compact(values, kind, validity);
  if (vals === null) throw new Error(`${NAME}: block has no null rows holding the filler value`);
  return withHeader(encoding, vals, kind);
}

/**
 * `encodeSparseWith` for a block whose valid rows are known: `valid` (ascending, block-relative)
 * lists them, and the caller vouches that every null row holds the writer's filler (the segment
 * writer's gathers fill them so, and list the valid rows as they go). The valid values are then
 * read at those rows alone, rather than found and the filler checked over every row.
 */
export function encodeSparseValid(encoding: Encoding, values: Values, kind: PhysicalKind, valid: Uint32Array): Uint8Array {
  const k = valid.length;
  if (k === 0 || k === values.length) throw new Error(`${NAME}: block has no null rows or no valid row`);
  const vals = scratchOf(kind, SLOT_OUTER, k);
  if (kind === 'f64') {
    // By bit pattern, as compact copies them (a NaN's payload included).
    const src = bitWords(values, kind) as Uint32Array;
    const out = bitWords(vals, kind) as Uint32Array;
    for (let j = 0; j < k; j++) {
      const i = valid[j];
      out[2 * j] = src[2 * i];
      out[2 * j + 1] = src[2 * i + 1];
    }
  } else {
    for (let j = 0; j < k; j++) vals[j] = values[valid[j]];
  }
  return withHeader(encoding, vals.subarray(0, k), kind);
}

/** The sparse encoding over the dense encodings `inner` (the registry passes its own list). */
export function sparseOver(inner: readonly Encoding[]): Encoding {
  const byId = new Map(inner.map((e) => [e.id, e]));
  // The valid rows' values alone, in row order (Encoding.decodeValid).
  const decodeValid = (bytes: Uint8Array, kind: PhysicalKind, rowCount: number, validity: Uint8Array): Values => {
    if (validity.length < (rowCount + 7) >> 3) throw new Error(`${NAME}: validity bitmap too short for ${rowCount} rows`);
    const header = headerOf(bytes, HEADER_BYTES, NAME);
    const encoding = byId.get(header.getUint8(0));
    const k = header.getUint32(4, true);
    if (encoding === undefined || !encoding.kinds.includes(kind) || k === 0 || k > rowCount) throw new Error(`${NAME}: bad header`);
    // Inner decoders use the lower scratch slots; the compacted values live in SLOT_OUTER.
    return encoding.decode(bytes.subarray(HEADER_BYTES), kind, k, scratchOf(kind, SLOT_OUTER, k), null).subarray(0, k);
  };
  return {
    id: SPARSE_ID,
    name: NAME,
    kinds: ['f64', 'u32', 'u8'],
    usesValidity: true,

    analyze(values: Values, kind: PhysicalKind, validity?: Uint8Array | null): number | null {
      const vals = compact(values, kind, validity);
      return vals === null ? null : HEADER_BYTES + bestInner(inner, vals, kind).sizeBytes;
    },

    encode(values: Values, kind: PhysicalKind, validity?: Uint8Array | null): Uint8Array {
      const vals = compact(values, kind, validity);
      if (vals === null) throw new Error(`${NAME}: block has no null rows holding the filler value`);
      return withHeader(bestInner(inner, vals, kind).encoding, vals, kind);
    },

    decode(bytes: Uint8Array, kind: PhysicalKind, rowCount: number, out?: Values, validity?: Uint8Array | null): Values {
      if (validity === null || validity === undefined) throw new Error(`${NAME}: decoding needs the block's validity bitmap`);
      const vals = decodeValid(bytes, kind, rowCount, validity);
      const target = outputFor(kind, rowCount, out);
      const seen = EXPANDERS[kind](vals, validity, rowCount, target);
      if (seen !== vals.length) throw new Error(`${NAME}: validity marks ${seen} valid rows, block holds ${vals.length}`);
      return target;
    },

    decodeValid,
  };
}
