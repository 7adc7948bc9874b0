/**
 * String dictionaries of one WAL generation, shared by all of its shard tails, and the caches
 * that let the ingest path code strings without hashing them per row.
 *
 * A batch's string column arrives as codes into a source dictionary: a parse worker's stream
 * dictionary (which lives as long as the worker and grows append-only, see
 * ingest/batch-wire.ts) or a dictionary of that batch alone. The source codes a batch uses are
 * mapped to generation codes once each (`mapCodes`: the codes the scatter of split-scatter.ts
 * meets, together after its pass), and the mapping is cached by the source array
 * (`remapFor`), so a string costs one hash lookup per worker and generation instead of one per
 * batch and shard. Only
 * codes in use are mapped: a worker's dictionary holds up to a million strings from earlier
 * generations, and mapping all of them at each generation's first batch cost seconds per flush.
 * Parts built that way carry the generation dictionary itself (`values`), and a tail appends
 * their codes without any lookup. Parts read back from the WAL carry their own small dictionary
 * and take the lookup path.
 *
 * Threading: main thread only. A generation's dictionaries only grow, so a code, once handed
 * out, keeps its string for the generation's lifetime; a new generation (after a flush froze the
 * tails) starts new dictionaries, which bounds their memory by the tails'.
 */
import { hashString, StringIndex } from './string-index.js';

/** One column's dictionary in one generation. */
export interface TailDict {
  /** Strings by code; append-only. */
  readonly values: string[];
  /** Codes of `values` by string (a typed index, not a Map: see string-index.ts). */
  readonly index: StringIndex;
}

/** Lookups whose reads `mapCodes` issues together. */
const MAP_BLOCK = 64;
const blockStrings: string[] = new Array<string>(MAP_BLOCK).fill('');
const blockHashes = new Int32Array(MAP_BLOCK);

/** Heap bytes a dictionary entry costs besides its characters (array slot, index slots, header), rounded up. */
const ENTRY_OVERHEAD_BYTES = 64;

/** Generation codes of a source dictionary's codes, filled in as batches meet them (see `remapFor`). */
export interface Remap {
  dict: TailDict;
  source: string[];
  /** Generation code by source code; -1 where not mapped yet. */
  codes: Int32Array;
}

export class TailDicts {
  private readonly byColumn = new Map<string, TailDict>();
  private readonly remaps = new WeakMap<string[], Remap>();
  private readonly lazyRemaps = new WeakMap<string[], Int32Array>();
  /** Estimated heap bytes of all dictionaries (what the memory budget counts). */
  sizeBytes = 0;
  /** A sum of what `mapCodes` read ahead, kept so the reads are not optimized away. */
  touched = 0;

  /** The dictionary of `column`, created empty on first use. */
  get(column: string): TailDict {
    let d = this.byColumn.get(column);
    if (d === undefined) this.byColumn.set(column, (d = { values: [], index: new StringIndex() }));
    return d;
  }

  /** The code of `s` in `dict`, adding it when new. */
  codeOf(dict: TailDict, s: string): number {
    return this.codeOfHashed(dict, s, hashString(s));
  }

  private codeOfHashed(dict: TailDict, s: string, hash: number): number {
    let code = dict.index.find(dict.values, s, hash);
    if (code < 0) {
      code = dict.values.length;
      dict.values.push(s);
      dict.index.add(hash, code);
      this.sizeBytes += 2 * s.length + ENTRY_OVERHEAD_BYTES;
    }
    return code;
  }

  /**
   * The generation codes of `source` (a dictionary of column `column`), −1 where not mapped yet:
   * the caller maps the codes its rows hold with `mapCodes`. Cached per source
   * and grown with it; valid until the next call for the same source.
   */
  remapFor(column: string, source: string[]): Remap {
    let r = this.remaps.get(source);
    if (r === undefined) {
      r = { dict: this.get(column), source, codes: new Int32Array(Math.max(16, source.length)).fill(-1) };
      this.remaps.set(source, r);
    }
    if (r.codes.length < source.length) {
      const grown = new Int32Array(Math.max(source.length, r.codes.length * 2)).fill(-1);
      grown.set(r.codes);
      r.codes = grown;
    }
    return r;
  }

  /**
   * Maps each of the distinct, not yet mapped source codes `codes[0, count)` of `r` to its
   * generation code, adding strings that are new, in that order (so new strings get the codes
   * lookups one by one would give them, `codeOf`). Done in blocks whose memory reads are issued
   * together — the strings, then each hash's first index slot and the string a matching slot
   * names — so their cache misses overlap: one at a time, a lookup of a session id waited on four
   * or five of them in a row, ~1 µs a lookup on the ingest path.
   */
  mapCodes(r: Remap, codes: Int32Array, count: number): void {
    const { source, dict } = r;
    const strs = blockStrings;
    const hashes = blockHashes;
    let touched = 0;
    for (let b = 0; b < count; b += MAP_BLOCK) {
      const n = Math.min(MAP_BLOCK, count - b);
      for (let k = 0; k < n; k++) {
        const str = source[codes[b + k]];
        strs[k] = str;
        touched += str.length;
      }
      for (let k = 0; k < n; k++) hashes[k] = hashString(strs[k]);
      touched += dict.index.touch(dict.values, hashes, n);
      for (let k = 0; k < n; k++) r.codes[codes[b + k]] = this.codeOfHashed(dict, strs[k], hashes[k]);
    }
    this.touched = touched;
  }

  /**
   * Generation codes by code of `source` (another dictionary of a column), -1 where not looked
   * up yet: the caller fills in the codes it meets. Cached per source, so the parts coded
   * against one source share the lookups.
   */
  lazyRemapFor(source: readonly string[]): Int32Array {
    let r = this.lazyRemaps.get(source as string[]);
    if (r === undefined || r.length < source.length) {
      const grown = new Int32Array(source.length).fill(-1);
      if (r !== undefined) grown.set(r);
      this.lazyRemaps.set(source as string[], (r = grown));
    }
    return r;
  }
}
