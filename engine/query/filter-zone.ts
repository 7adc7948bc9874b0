/**
 * Filter leaves on single values (used once per dictionary entry, per actor id, and on zone
 * maps) and zone-map verdicts: whether a row group can be skipped (no row matches), read
 * without filtering (every row matches), or must be filtered row by row.
 */
import type { ColumnType, Scalar, ZoneMap } from '../types.js';
import type { FilterNode, LeafOp } from './query-types.js';

export const NONE = 0;
export const SOME = 1;
export const ALL = 2;
export type Verdict = typeof NONE | typeof SOME | typeof ALL;

type Leaf = Extract<FilterNode, { kind: 'leaf' }>;

function compare(op: LeafOp, x: Scalar, v: Scalar): boolean {
  switch (op) {
    case '=': return x === v;
    case '!=': return x !== v;
    case '<': return x < v;
    case '<=': return x <= v;
    case '>': return x > v;
    case '>=': return x >= v;
    default: return false;
  }
}

/**
 * An `in` list (up to 100,000 values) prepared once per list, by identity: its values in stored
 * form (booleans as 0/1), as a set, as a set of texts (actors), and sorted. The leaf is tested
 * once per dictionary entry, actor and row group, and a scan of the list each time made a
 * 10,000-value list over 100,000 distinct strings take minutes inside one row group.
 */
interface InList {
  stored: Scalar[];
  set: Set<Scalar>;
  /** Lazily: String(v) of each value (actors compare by text). */
  text: Set<string> | null;
  /** The stored values ascending when they are all of one type (else null): zone maps bisect it. */
  sorted: Scalar[] | null;
}

const inLists = new WeakMap<readonly Scalar[], InList>();

export function inList(values: readonly Scalar[]): InList {
  let l = inLists.get(values);
  if (l === undefined) {
    const stored = values.map(storedForm);
    const oneType = stored.every((v) => typeof v === typeof stored[0]);
    const sorted = oneType ? [...stored].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)) : null;
    inLists.set(values, (l = { stored, set: new Set(stored), text: null, sorted }));
    // the stored form is what the zone maps pass back in: it is its own list
    inLists.set(stored, l);
  }
  return l;
}

function textSet(values: readonly Scalar[]): Set<string> {
  const l = inList(values);
  return (l.text ??= new Set(l.stored.map(String)));
}

/** Whether some value of an ascending list lies in [min, max]. */
function anyWithin(sorted: readonly Scalar[], min: Scalar, max: Scalar): boolean {
  let lo = 0;
  let hi = sorted.length;
  // first index with sorted[i] >= min
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < min) lo = mid + 1;
    else hi = mid;
  }
  return lo < sorted.length && sorted[lo] <= max;
}

/**
 * Whether a non-null value x matches the leaf. Values are of the column's type (validation
 * checked it); booleans stored as 0/1 compare as such.
 */
export function matchValue(op: LeafOp, value: Leaf['value'], x: Scalar): boolean {
  switch (op) {
    case 'exists': return true;
    case '!exists': return false;
    case 'in': return inList(value as Scalar[]).set.has(x);
    case '!in': return !inList(value as Scalar[]).set.has(x);
    case 'contains': return String(x).includes(value as string);
    case '!contains': return !String(x).includes(value as string);
    case 'startsWith': return String(x).startsWith(value as string);
    case '!startsWith': return !String(x).startsWith(value as string);
    default: return compare(op, x, value as Scalar);
  }
}

/** A number, or a string that is a number's text ("42", not "042" or "4.20"): its number; else NaN. */
function asNumber(v: Scalar): number {
  if (typeof v === 'number') return v;
  if (typeof v !== 'string' || v.length === 0) return NaN;
  const n = Number(v);
  return String(n) === v ? n : NaN;
}

/**
 * Actor values may be strings or numbers, and 42 and "42" are one actor (storage keys actors by
 * text), so equality and text operators use the text. Ordering compares numbers when both sides
 * are one in either form (so `>= 1000` works on ids ingested as JSON strings), else texts: every
 * actor falls on one side of a comparison, as actors are never null.
 */
export function matchActor(op: LeafOp, value: Leaf['value'], x: Scalar): boolean {
  switch (op) {
    case '=': return String(x) === String(value);
    case '!=': return String(x) !== String(value);
    case 'in': return textSet(value as Scalar[]).has(String(x));
    case '!in': return !textSet(value as Scalar[]).has(String(x));
    case '<': case '<=': case '>': case '>=': {
      const a = asNumber(x);
      const b = asNumber(value as Scalar);
      return a === a && b === b ? compare(op, a, b) : compare(op, String(x), String(value));
    }
    default: return matchValue(op, value, x);
  }
}

/** Boolean filter values compare with stored 0/1. */
export function storedForm(v: Scalar): Scalar {
  return typeof v === 'boolean' ? (v ? 1 : 0) : v;
}

function leafVerdict(leaf: Leaf, zone: ZoneMap | undefined, rowCount: number, present: boolean): Verdict {
  const onNull: Verdict = leaf.op === '!exists' ? ALL : NONE;
  if (!present || zone === undefined) return present ? SOME : onNull;
  if (zone.nullCount >= rowCount) return onNull;
  const hasNulls = zone.nullCount > 0;
  if (leaf.op === 'exists') return hasNulls ? SOME : ALL;
  if (leaf.op === '!exists') return hasNulls ? SOME : NONE;
  const { min, max } = zone;
  if (min === null || max === null) return SOME;
  const raw = leaf.value;
  const list = Array.isArray(raw) ? inList(raw) : null;
  const v = (list === null ? storedForm(raw as Scalar) : null) as Scalar; // the operand of a one-value leaf
  const oneType = list === null ? typeof v === typeof min : list.stored.length === 0 || (list.sorted !== null && typeof list.sorted[0] === typeof min);
  if (!oneType) return SOME;
  const ifAll: Verdict = hasNulls ? SOME : ALL;
  // Every non-null value is min: evaluate the leaf on it.
  if (min === max) return matchValue(leaf.op, list !== null ? list.stored : v, min) ? ifAll : NONE;
  const outside = (x: Scalar): boolean => x < min || x > max;
  switch (leaf.op) {
    case '=': return outside(v) ? NONE : SOME;
    case '!=': return outside(v) ? ifAll : SOME;
    case '<': return min >= v ? NONE : max < v ? ifAll : SOME;
    case '<=': return min > v ? NONE : max <= v ? ifAll : SOME;
    case '>': return max <= v ? NONE : min > v ? ifAll : SOME;
    case '>=': return max < v ? NONE : min >= v ? ifAll : SOME;
    case 'in': return anyWithin(list!.sorted ?? [], min, max) ? SOME : NONE;
    case '!in': return anyWithin(list!.sorted ?? [], min, max) ? SOME : ifAll;
    case 'startsWith':
    case '!startsWith': {
      const p = v as string;
      const s0 = min as string;
      const s1 = max as string;
      // Strings starting with p are one contiguous range in lexicographic order.
      const noneStart = s1 < p || (s0 > p && !s0.startsWith(p));
      const allStart = s0.startsWith(p) && s1.startsWith(p);
      if (leaf.op === 'startsWith') return noneStart ? NONE : allStart ? ifAll : SOME;
      return allStart ? NONE : noneStart ? ifAll : SOME;
    }
    default: return SOME;
  }
}

/**
 * What a row group's zone maps say about a filter.
 * @param columns the source's columns (a column it lacks is null in every row)
 */
export function zoneVerdict(node: FilterNode, zones: ReadonlyMap<string, ZoneMap>, rowCount: number, columns: ReadonlyMap<string, ColumnType>): Verdict {
  switch (node.kind) {
    case 'const':
      return node.value ? ALL : NONE;
    case 'and': {
      let v: Verdict = ALL;
      for (const c of node.children) {
        const cv = zoneVerdict(c, zones, rowCount, columns);
        if (cv === NONE) return NONE;
        if (cv === SOME) v = SOME;
      }
      return v;
    }
    case 'or': {
      let v: Verdict = NONE;
      for (const c of node.children) {
        const cv = zoneVerdict(c, zones, rowCount, columns);
        if (cv === ALL) return ALL;
        if (cv === SOME) v = SOME;
      }
      return v;
    }
    case 'leaf': {
      const col = node.column;
      if (col.kind === 'actor') return SOME;
      if (col.kind === 'time') return leafVerdict(node, zones.get('$time'), rowCount, true);
      return leafVerdict(node, zones.get(col.name), rowCount, columns.has(col.name));
    }
  }
}
