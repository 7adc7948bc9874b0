/**
 * The segment writer's per-segment string dictionaries: the strings a segment's gathered codes
 * use (segment-gather.ts), sorted, with the map from the source dictionary's codes to the
 * segment's. Pure CPU; one thread per module instance (the flush workers each load their own).
 */
import { isPacked, packedAt, type PackedStrings } from './packed-strings.js';
import { fewValid, fillNulls, type Gathered } from './segment-gather.js';
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
  lastCodes: Uint32Array | null;
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
  const used = usedCodes(groups, scratch.stamp, ++scratch.epoch);
  let codes: Uint32Array;
  let dict: string[];
  if (isPacked(source)) {
    dict = new Array<string>(used.length);
    codes = sortedPackedCodes(source, used, dict);
  } else {
    codes = sortedCodes(source, used, scratch);
    dict = stringsAt(source, codes);
  }
  const remap = scratch.remap;
  for (let k = 0; k < codes.length; k++) remap[codes[k]] = k;
  const last = scratch.lastCodes;
  const same = last !== null && sameCodes(last, codes);
  if (!same) {
    scratch.lastCodes = codes;
    scratch.lastStored = null;
  }
  const remember = (stored: StoredDict): void => {
    if (scratch.lastCodes === codes || same) scratch.lastStored = stored;
  };
  return { dict, remap, stored: same ? scratch.lastStored : null, remember };
}

/*
 * segmentDict's steps are small functions of one shape each: a flush calls them once per string
 * column and segment, and V8 (Node 20) compiles a long loop of a function called that rarely
 * on the stack (OSR) and then deoptimizes, at every call, in code after the loop that had not
 * run yet; one function holding all of them was compiled ~7 times per flush worker (~30 ms each).
 */

/** The distinct codes the blocks use, in the order met (`stamp[code] === epoch` marks them). */
function usedCodes(groups: Gathered[], stamp: Int32Array, epoch: number): number[] {
  const used: number[] = [];
  for (const g of groups) {
    if (g.min === null) continue; // every row null
    const values = g.values as Uint32Array;
    // Few valid rows: their codes are all the block's. Otherwise null rows hold a neighbour's
    // code (see gatherRange), which is used, so no bitmap test.
    if (fewValid(g)) stampRows(values, g.valid, stamp, epoch, used);
    else stampAll(values, stamp, epoch, used);
  }
  return used;
}

function stampRows(values: Uint32Array, rows: Uint32Array, stamp: Int32Array, epoch: number, used: number[]): void {
  for (let j = 0; j < rows.length; j++) {
    const c = values[rows[j]];
    if (stamp[c] !== epoch) {
      stamp[c] = epoch;
      used.push(c);
    }
  }
}

function stampAll(values: Uint32Array, stamp: Int32Array, epoch: number, used: number[]): void {
  for (let i = 0; i < values.length; i++) {
    const c = values[i];
    if (stamp[c] !== epoch) {
      stamp[c] = epoch;
      used.push(c);
    }
  }
}

/**
 * `used` sorted by string, for a packed dictionary, and their strings in that order in `dict`
 * (as long as `used`): only the strings used are made, once.
 */
function sortedPackedCodes(source: PackedStrings, used: number[], dict: string[]): Uint32Array {
  const strings = new Array<string>(used.length);
  const at = new Array<number>(used.length);
  for (let k = 0; k < used.length; k++) {
    strings[k] = packedAt(source, used[k]);
    at[k] = k;
  }
  const order = sortCodesByString(at, strings);
  const codes = new Uint32Array(order.length);
  for (let k = 0; k < order.length; k++) {
    codes[k] = used[order[k]];
    dict[k] = strings[order[k]];
  }
  return codes;
}

/** `used` sorted by string: by rank when the dictionary is small, else by UTF-16 code units, as the default sort and `<` order strings. */
function sortedCodes(source: string[], used: number[], scratch: DictScratch): Uint32Array {
  const { rank, codeAt } = scratch;
  if (rank === null || codeAt === null) return sortCodesByString(used, source);
  const ranks = new Uint32Array(used.length);
  for (let k = 0; k < used.length; k++) ranks[k] = rank[used[k]];
  ranks.sort();
  for (let k = 0; k < ranks.length; k++) ranks[k] = codeAt[ranks[k]];
  return ranks;
}

function stringsAt(source: string[], codes: Uint32Array): string[] {
  const dict = new Array<string>(codes.length);
  for (let k = 0; k < codes.length; k++) dict[k] = source[codes[k]];
  return dict;
}

function sameCodes(a: Uint32Array, b: Uint32Array): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

/** Rewrites a gathered block's codes through `remap`; its zone map becomes the first and last strings. */
export function remapGathered(g: Gathered, remap: Uint32Array, dict: string[]): void {
  if (g.min === null) return; // every row null: nothing to map, no zone
  const values = g.values as Uint32Array;
  let min = Infinity;
  let max = -Infinity;
  if (fewValid(g)) {
    // Few valid rows: map them, then refill the null rows from them, as the gather did.
    const valid = g.valid;
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
