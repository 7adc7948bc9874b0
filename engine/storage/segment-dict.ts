/**
 * The segment writer's per-segment string dictionaries: the strings a segment's gathered codes
 * use (segment-gather.ts), sorted, with the map from the source dictionary's codes to the
 * segment's. Pure CPU; one thread per module instance (the flush workers each load their own).
 */
import { isPacked, packedAt, type PackedStrings } from './packed-strings.js';
import { fillNulls, type Gathered } from './segment-gather.js';
import { sortCodesByString } from './string-order.js';

/**
 * Scratch per source dictionary, reused across the segments of one flush (a generation's tails
 * share their dictionaries, and each tail is cut into one segment per partition):
 * `stamp[code] === epoch` marks a code used by the current segment, so finding the used codes
 * costs the segment's rows, not the dictionary's length. A small dictionary is ranked once
 * (`rank`), so each segment sorts integers rather than strings; a large one (session ids) is
 * not: ranking it costs ~2 µs a string, while each segment sorts only the strings it uses,
 * and most strings of a large dictionary are used by one segment or two.
 */
interface DictScratch {
  stamp: Int32Array;
  remap: Uint32Array;
  epoch: number;
  /** rank[code]: position of the string in sorted order; codeAt[rank] inverts it. Small dictionaries only. */
  rank: Uint32Array | null;
  codeAt: Uint32Array | null;
  /** The previous segment's sorted used codes and its stored dictionary blob (see `StoredDict`). */
  lastCodes: ArrayLike<number> | null;
  lastStored: StoredDict | null;
}

/** A segment dictionary as stored: its blob's bytes (LZ4 or not), raw length and crc32. */
export interface StoredDict {
  compressed: boolean;
  bytes: Uint8Array;
  rawLength: number;
  crc: number;
}
const dictScratch = new WeakMap<string[] | PackedStrings, DictScratch>();
/** Dictionaries longer than this are not ranked as a whole. */
const RANKED_MAX = 4096;

function scratchFor(source: string[] | PackedStrings): DictScratch {
  const length = isPacked(source) ? source.ends.length : source.length;
  const s = dictScratch.get(source);
  if (s !== undefined && s.stamp.length === length) return s;
  const fresh: DictScratch = {
    stamp: new Int32Array(length),
    remap: new Uint32Array(length),
    epoch: 0,
    rank: null,
    codeAt: null,
    lastCodes: null,
    lastStored: null,
  };
  if (!isPacked(source) && source.length <= RANKED_MAX) {
    // The default sort orders strings by UTF-16 code units, as `<` does, natively and much faster
    // than a comparator over indices; the entries are distinct, so a map gives each its rank.
    const sorted = source.slice().sort();
    const rankOf = new Map<string, number>();
    for (let r = 0; r < sorted.length; r++) rankOf.set(sorted[r], r);
    fresh.rank = new Uint32Array(source.length);
    fresh.codeAt = new Uint32Array(source.length);
    for (let c = 0; c < source.length; c++) {
      const r = rankOf.get(source[c])!;
      fresh.rank[c] = r;
      fresh.codeAt[r] = c;
    }
  }
  dictScratch.set(source, fresh);
  return fresh;
}

/** A segment's dictionary, its code map, and its stored form when the previous segment's was the same. */
export interface SegmentDict {
  dict: string[];
  remap: Uint32Array;
  /** The stored blob of the same dictionary, from the previous segment of this source (or null). */
  stored: StoredDict | null;
  /** Keeps the stored blob of this dictionary, for the next segment. */
  remember(stored: StoredDict): void;
}

/**
 * Sorted segment dictionary for the codes used by already gathered blocks (sequential reads;
 * gathering did the random ones), and the old-code → new-code map. Consecutive segments often
 * use the same strings of a small dictionary (event names, countries), so the previous
 * segment's stored dictionary is offered for reuse when the codes are the same.
 */
export function segmentDict(source: string[] | PackedStrings, groups: Gathered[]): SegmentDict {
  const scratch = scratchFor(source);
  const epoch = ++scratch.epoch;
  const { stamp, remap, rank, codeAt } = scratch;
  const used: number[] = [];
  for (const g of groups) {
    if (g.min === null) continue; // every row null
    const values = g.values as Uint32Array;
    const valid = g.valid;
    if (valid !== undefined) {
      // Sparse: the valid rows' codes are all the block's.
      for (let j = 0; j < valid.length; j++) {
        const c = values[valid[j]];
        if (stamp[c] !== epoch) {
          stamp[c] = epoch;
          used.push(c);
        }
      }
      continue;
    }
    // Null rows hold a neighbour's code (see gatherRange), which is used, so no bitmap test.
    for (let i = 0; i < values.length; i++) {
      const c = values[i];
      if (stamp[c] !== epoch) {
        stamp[c] = epoch;
        used.push(c);
      }
    }
  }
  let codes: ArrayLike<number>;
  let dict: string[];
  if (isPacked(source)) {
    // Only the strings this segment uses are made, in the order met, and sorted as such.
    const strings = used.map((c) => packedAt(source, c));
    const order = sortCodesByString(
      used.map((_, k) => k),
      strings,
    );
    const sorted = new Uint32Array(order.length);
    dict = new Array<string>(order.length);
    for (let k = 0; k < order.length; k++) {
      sorted[k] = used[order[k]];
      dict[k] = strings[order[k]];
    }
    codes = sorted;
  } else {
    if (rank !== null && codeAt !== null) {
      const ranks = new Uint32Array(used.length);
      for (let k = 0; k < used.length; k++) ranks[k] = rank[used[k]];
      ranks.sort();
      for (let k = 0; k < ranks.length; k++) ranks[k] = codeAt[ranks[k]];
      codes = ranks;
    } else {
      // By UTF-16 code units, as the default sort and `<` order strings.
      codes = sortCodesByString(used, source);
    }
    dict = new Array<string>(codes.length);
    for (let k = 0; k < codes.length; k++) dict[k] = source[codes[k]];
  }
  for (let k = 0; k < codes.length; k++) remap[codes[k]] = k;
  const last = scratch.lastCodes;
  let same = last !== null && last.length === codes.length;
  for (let k = 0; same && k < codes.length; k++) same = last![k] === codes[k];
  if (!same) {
    scratch.lastCodes = codes;
    scratch.lastStored = null;
  }
  const remember = (stored: StoredDict): void => {
    if (scratch.lastCodes === codes || same) scratch.lastStored = stored;
  };
  return { dict, remap, stored: same ? scratch.lastStored : null, remember };
}

/** Rewrites a gathered block's codes through `remap`; its zone map becomes the first and last strings. */
export function remapGathered(g: Gathered, remap: Uint32Array, dict: string[]): void {
  if (g.min === null) return; // every row null: nothing to map, no zone
  const values = g.values as Uint32Array;
  let min = Infinity;
  let max = -Infinity;
  const valid = g.valid;
  if (valid !== undefined) {
    // Sparse: map the valid rows, then refill the null rows from them, as the gather did.
    for (let j = 0; j < valid.length; j++) {
      const v = remap[values[valid[j]]];
      values[valid[j]] = v;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    fillNulls(values, valid);
    g.min = dict[min];
    g.max = dict[max];
    return;
  }
  // Null rows hold a valid row's code of the same block (see gatherRange), so they can be
  // included: min and max over every row are those over the valid rows.
  for (let i = 0; i < values.length; i++) {
    const v = remap[values[i]];
    values[i] = v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  g.min = dict[min];
  g.max = dict[max];
}
