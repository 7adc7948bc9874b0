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
 * Whether a non-null value x matches the leaf. Values are of the column's type (validation
 * checked it); booleans stored as 0/1 compare as such.
 */
export function matchValue(op: LeafOp, value: Leaf['value'], x: Scalar): boolean {
  switch (op) {
    case 'exists': return true;
    case '!exists': return false;
    case 'in': return (value as Scalar[]).includes(x);
    case '!in': return !(value as Scalar[]).includes(x);
    case 'contains': return String(x).includes(value as string);
    case '!contains': return !String(x).includes(value as string);
    case 'startsWith': return String(x).startsWith(value as string);
    case '!startsWith': return !String(x).startsWith(value as string);
    default: return compare(op, x, value as Scalar);
  }
}

/**
 * Actor values may be strings or numbers, and 42 and "42" are one actor (storage keys actors by
 * text), so equality and text operators use the text; ordering needs both sides of one type.
 */
export function matchActor(op: LeafOp, value: Leaf['value'], x: Scalar): boolean {
  switch (op) {
    case '=': return String(x) === String(value);
    case '!=': return String(x) !== String(value);
    case 'in': return (value as Scalar[]).some((v) => String(v) === String(x));
    case '!in': return !(value as Scalar[]).some((v) => String(v) === String(x));
    case '<': case '<=': case '>': case '>=':
      return typeof x === typeof value && compare(op, x, value as Scalar);
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
  const values = Array.isArray(raw) ? raw.map(storedForm) : raw === null ? [] : [storedForm(raw)];
  if (values.some((v) => typeof v !== typeof min)) return SOME;
  const ifAll: Verdict = hasNulls ? SOME : ALL;
  // Every non-null value is min: evaluate the leaf on it.
  if (min === max) return matchValue(leaf.op, Array.isArray(raw) ? values : values[0], min) ? ifAll : NONE;
  const v = values[0];
  const outside = (x: Scalar): boolean => x < min || x > max;
  switch (leaf.op) {
    case '=': return outside(v) ? NONE : SOME;
    case '!=': return outside(v) ? ifAll : SOME;
    case '<': return min >= v ? NONE : max < v ? ifAll : SOME;
    case '<=': return min > v ? NONE : max <= v ? ifAll : SOME;
    case '>': return max <= v ? NONE : min > v ? ifAll : SOME;
    case '>=': return max < v ? NONE : min >= v ? ifAll : SOME;
    case 'in': return values.every(outside) ? NONE : SOME;
    case '!in': return values.every(outside) ? ifAll : SOME;
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
