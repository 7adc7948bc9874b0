/**
 * Values derived from a whole block's array and kept beside it by the array's identity: a
 * percentile's bins per value (sketch-acc.ts), an actor-id block's runs (shard-scan.ts), a code
 * block's histograms (code-histograms.ts). A block cache hands out the same array for the same
 * block query after query, so such a value is derived once.
 *
 * Where they are kept: a worker's block cache registers itself as the host (`setDerivedHost`),
 * and an array it handed out keeps its values as memos of the cached block: counted in the
 * cache's byte budget, kept only while there is room (free, or freed by narrowing blocks: never
 * by evicting one), dropped with the block. Uncounted, they grew a query worker past its budget
 * by up to 5 bytes a row (percentile bins beside 8-byte values: a 1B-event p99 by path held
 * ~4.5 GiB beyond two 3 GiB caches). Any other array (an
 * in-memory tail's, a block decoded without a cache) keeps them in a WeakMap for its own
 * lifetime, as every array did before.
 *
 * Threading: per thread (module state).
 */

/** What a block cache offers (BlockCache implements it). */
export interface DerivedHost {
  /** True when `array` was handed out for a block the host holds (then the two calls below apply to it). */
  owns(array: object): boolean;
  derived(array: object, name: string): unknown;
  /** False when a value of `bytes` derived from `array` would surely not be kept (no room, even with blocks narrowed to free some, or the block is gone). */
  mayKeep(array: object, bytes: number): boolean;
  /** Keeps `value` under `name` beside the block that handed out `array` when `bytes` fit (see BlockCache.keepMemo). */
  keepDerived(array: object, name: string, bytes: number, value: unknown): void;
  /** A name for the block behind `array`, stable while the host holds it (for values derived from two blocks). */
  blockName(array: object): string;
}

let host: DerivedHost | null = null;
const local = new WeakMap<object, Map<string, unknown>>();
const localNames = new WeakMap<object, string>();
let named = 0;

/** Installs the block cache of this thread (null: none). */
export function setDerivedHost(h: DerivedHost | null): void {
  host = h;
}

/** The value derived from `array` under `name`, undefined when none is kept. */
export function derivedOf<T>(array: object, name: string): T | undefined {
  if (derivedHeld(array)) return host!.derived(array, name) as T | undefined;
  return local.get(array)?.get(name) as T | undefined;
}

/**
 * False when a value of `bytes` derived from `array` would not be kept: the caller then derives
 * only what it needs now rather than a whole block's worth to throw away.
 */
export function mayKeepDerived(array: object, bytes: number): boolean {
  return !derivedHeld(array) || host!.mayKeep(array, bytes);
}

/** Keeps `value` (about `bytes` bytes) derived from `array` under `name`; a cache may decline it. */
export function keepDerived(array: object, name: string, bytes: number, value: unknown): void {
  if (derivedHeld(array)) {
    host!.keepDerived(array, name, bytes, value);
    return;
  }
  let m = local.get(array);
  if (m === undefined) local.set(array, (m = new Map()));
  m.set(name, value);
}

/** True when the thread's block cache handed out `array` (its derived values are that block's memos). */
export function derivedHeld(array: object): boolean {
  return host !== null && host.owns(array);
}

/**
 * A name of `array` for the names of values derived from it and another array: its block's
 * while a host holds that block (the same for every array handed out for it), else its own.
 */
export function derivedName(array: object): string {
  if (derivedHeld(array)) return `b${host!.blockName(array)}`;
  let name = localNames.get(array);
  if (name === undefined) localNames.set(array, (name = `l${++named}`));
  return name;
}
