/**
 * What every WAL record layout shares: the in-memory shard part, type tags, the per-part string
 * dictionary cut (`compactDict`), code widths and the checked section reader of the binary
 * layouts (versions 3 and 4). The layouts themselves are in wal-record.ts (current),
 * wal-record-v3.ts and wal-record-v2.ts (older, still read).
 *
 * Binary sections start at multiples of 8 bytes from the payload start, so they can be read
 * through typed views (after a copy when the payload itself is not aligned).
 */
import type { PartColumn, StoredType, TypedColumn } from './typed-column.js';

export const TYPE_TAGS: readonly StoredType[] = ['number', 'boolean', 'string'];
/** wal.ts record framing: u32 payload length, u32 crc32(payload). */
export const FRAME_BYTES = 8;

export interface ShardPart {
  batchId: number;
  /** How many shard parts the batch has in all. */
  parts: number;
  shard: number;
  rowCount: number;
  times: Float64Array;
  /** Distinct actor values of this part; `actorCodes` index into it. */
  actorValues: (string | number)[];
  actorCodes: Uint32Array;
  columns: PartColumn[];
  typeErrors: [string, number][];
  /** On one part of a keyed request: the key and the result to replay to a retry. */
  idempotency?: IdempotencyEntry;
  /**
   * In memory only (never written): the dense actor id of each `actorValues` entry, when the
   * ingest path assigned them already; otherwise they are assigned when the part is applied.
   */
  actorIds?: Uint32Array;
  /**
   * In memory only, on the parts of an unlogged call (which no WAL record holds): each row's
   * dense actor id, assigned by the ingest path; `actorValues` and `actorCodes` are then empty.
   */
  actorRowIds?: Uint32Array;
}

export interface IdempotencyEntry {
  key: string;
  atMs: number;
  result: { accepted: number; rejected: number; typeErrors: number; errors: { line: number; message: string }[] };
}

export type CodeArray = Uint8Array | Uint16Array | Uint32Array;

/** Copies bytes into a fresh, aligned buffer and views them as the requested array type. */
export function viewAs<T extends Float64Array | Uint32Array | Uint16Array | Uint8Array>(
  bytes: Uint8Array,
  Ctor: { new (buf: ArrayBuffer): T; BYTES_PER_ELEMENT: number },
): T {
  const copy = new ArrayBuffer(bytes.length);
  new Uint8Array(copy).set(bytes);
  return new Ctor(copy);
}

export const align8 = (n: number): number => (n + 7) & ~7;

/** Bytes per code for codes below `count`. */
export function widthFor(count: number): 1 | 2 | 4 {
  return count <= 0x100 ? 1 : count <= 0x10000 ? 2 : 4;
}

/**
 * Per source dictionary: `slots[2 * code] === epoch` marks a code seen in the current part, whose
 * local code is `slots[2 * code + 1]`. Interleaved, so a code's two words share a cache line: a
 * generation's session ids run to a million codes and more, and their rows hit them at random.
 */
interface DictScratch {
  slots: Int32Array;
  epoch: number;
}
const scratchByDict = new WeakMap<string[], DictScratch>();

function scratchFor(source: string[]): DictScratch {
  let s = scratchByDict.get(source);
  if (s === undefined || s.slots.length < 2 * source.length) {
    const size = Math.max(source.length, (s?.slots.length ?? 0), 64);
    s = { slots: new Int32Array(2 * size), epoch: 0 };
    scratchByDict.set(source, s);
  }
  return s;
}

/**
 * Source dictionaries longer than this find a part's codes through a small hash table of the
 * part's own (`compactLarge`): marks by source code would be spread over megabytes (a
 * generation's session ids), a cache miss for most rows.
 */
const MARKED_MAX = 1 << 16;

/** `compactLarge`'s table: source code + 1 (0: empty) and its local code, by slot. */
let localKeys = new Int32Array(0);
let localCodes = new Int32Array(0);

/**
 * The part's own dictionary for a string column, which in memory may point into a large shared
 * dictionary (the generation's, see tail-dicts.ts): only the strings its rows use, in first-use
 * order. With `out`, also writes each row's local code there (null rows get 0); the result is the
 * same dictionary either way, so a caller may size its output from a first call without `out`.
 */
export function compactDict(c: TypedColumn, rowCount: number, out: CodeArray | null = null): string[] {
  const source = c.dict!;
  const codes = c.values as Uint32Array;
  if (source.length > MARKED_MAX) return compactLarge(source, codes, c.validity, rowCount, out);
  const s = scratchFor(source);
  const epoch = ++s.epoch;
  const slots = s.slots;
  const dict: string[] = [];
  const validity = c.validity;
  if (validity === null) {
    // Split from the loop below so rows without nulls pay no validity test.
    for (let j = 0; j < rowCount; j++) {
      const at = 2 * codes[j];
      if (slots[at] !== epoch) {
        slots[at] = epoch;
        slots[at + 1] = dict.length;
        dict.push(source[at >> 1]);
      }
      if (out !== null) out[j] = slots[at + 1];
    }
    return dict;
  }
  for (let j = 0; j < rowCount; j++) {
    if ((validity[j >> 3] & (1 << (j & 7))) === 0) {
      if (out !== null) out[j] = 0;
      continue;
    }
    const at = 2 * codes[j];
    if (slots[at] !== epoch) {
      slots[at] = epoch;
      slots[at + 1] = dict.length;
      dict.push(source[at >> 1]);
    }
    if (out !== null) out[j] = slots[at + 1];
  }
  return dict;
}

/**
 * `compactDict` for a large source dictionary: the part's distinct codes in an open-addressing
 * table of at least twice the part's rows (cleared per part, small enough to stay in cache).
 */
function compactLarge(source: string[], codes: Uint32Array, validity: Uint8Array | null, rowCount: number, out: CodeArray | null): string[] {
  let size = 64;
  while (size < 2 * rowCount) size *= 2;
  if (localKeys.length < size) {
    localKeys = new Int32Array(size);
    localCodes = new Int32Array(size);
  } else {
    localKeys.fill(0, 0, size);
  }
  const keys = localKeys;
  const locals = localCodes;
  const mask = size - 1;
  const shift = 32 - (31 - Math.clz32(size));
  const dict: string[] = [];
  for (let j = 0; j < rowCount; j++) {
    if (validity !== null && (validity[j >> 3] & (1 << (j & 7))) === 0) {
      if (out !== null) out[j] = 0;
      continue;
    }
    const key = codes[j] + 1;
    // Fibonacci hashing: the top bits of key × 2^32/φ.
    let i = Math.imul(key, 0x9e3779b1) >>> shift;
    let local: number;
    for (;;) {
      const k = keys[i];
      if (k === key) {
        local = locals[i];
        break;
      }
      if (k === 0) {
        keys[i] = key;
        local = locals[i] = dict.length;
        dict.push(source[key - 1]);
        break;
      }
      i = (i + 1) & mask;
    }
    if (out !== null) out[j] = local;
  }
  return dict;
}

/** Reads the sections of a binary payload in order, checking that each lies inside it. */
export class SectionReader {
  constructor(
    private readonly payload: Uint8Array,
    private at: number,
  ) {}

  take(bytes: number): Uint8Array {
    if (this.at + bytes > this.payload.length) throw new Error('WAL record shorter than its header says');
    const out = this.payload.subarray(this.at, this.at + bytes);
    this.at = align8(this.at + bytes);
    return out;
  }

  /** `count` codes of `width` bytes, widened to u32 and checked against `limit`. */
  codes(count: number, width: number, limit: number): Uint32Array {
    if (width !== 1 && width !== 2 && width !== 4) throw new Error(`bad code width ${width}`);
    const bytes = this.take(count * width);
    const codes = width === 4 ? viewAs(bytes, Uint32Array) : Uint32Array.from(width === 1 ? bytes : viewAs(bytes, Uint16Array));
    for (let j = 0; j < count; j++) if (codes[j] >= limit) throw new Error(`code ${codes[j]} outside a dictionary of ${limit}`);
    return codes;
  }
}

export function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}
