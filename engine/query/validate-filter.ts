/**
 * Validates a `where` filter and normalizes it: `not` is pushed down to the leaves (De Morgan,
 * and each operator replaced by its complement), a filter on a column the table has never seen
 * becomes a constant, time values become epoch ms.
 *
 * Null semantics (SQL-like, three-valued): a null or missing value makes every comparison
 * unknown, and only true passes; so `!=`, `!in`, `!contains` never match a null, and only
 * `!exists` does. `{"not": f}` negates true and false and keeps unknown unknown, so it equals
 * the filter with every operator complemented: `{"not": ["a","=",1]}` is `["a","!=",1]`.
 */
import { ShoalError } from '../errors.js';
import type { Scalar } from '../types.js';
import type { ColumnRef, FilterNode, LeafOp, SchemaInfo } from './query-types.js';
import { parseTimeBound } from './time-parse.js';

const OPS: readonly string[] = ['=', '!=', '<', '<=', '>', '>=', 'in', '!in', 'contains', '!contains', 'startsWith', 'exists', '!exists'];

const COMPLEMENT: Record<LeafOp, LeafOp> = {
  '=': '!=', '!=': '=', '<': '>=', '>=': '<', '>': '<=', '<=': '>',
  'in': '!in', '!in': 'in', 'contains': '!contains', '!contains': 'contains',
  'startsWith': '!startsWith', '!startsWith': 'startsWith', 'exists': '!exists', '!exists': 'exists',
};

const MAX_IN_VALUES = 100_000;
const MAX_DEPTH = 64;

/** Resolves a column name: `$actor`/`$time` or the table's own actor/time column names. */
export function resolveColumn(name: string, info: SchemaInfo): ColumnRef {
  if (name === '$actor' || name === info.actorColumn) return { kind: 'actor' };
  if (name === '$time' || name === info.timeColumn) return { kind: 'time' };
  return { kind: 'column', name, type: info.schema.get(name) ?? null };
}

function describe(col: ColumnRef, name: string): string {
  if (col.kind === 'actor') return `actor column "${name}"`;
  if (col.kind === 'time') return `time column "${name}"`;
  return `${col.type} column "${name}"`;
}

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/** Checks (and converts) one comparison value against the column's type. */
function checkValue(col: ColumnRef, name: string, op: string, v: unknown, path: string): Scalar {
  if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
    const hint = v === null ? '; use ["col", "!exists"] to match missing values' : '';
    throw new ShoalError('BAD_FILTER', [`the value of "${op}" must be a string, number or boolean, got ${typeName(v)}${hint}`], path);
  }
  if (typeof v === 'number' && !Number.isFinite(v)) throw new ShoalError('BAD_FILTER', [`${v} is not a finite number`], path);
  const mismatch = (): ShoalError =>
    new ShoalError('TYPE_MISMATCH', [`cannot compare ${describe(col, name)} with ${typeName(v)} ${JSON.stringify(v)}`], path);
  const textOp = op === 'contains' || op === '!contains' || op === 'startsWith';
  if (textOp && typeof v !== 'string') throw new ShoalError('BAD_FILTER', [`"${op}" takes a string`], path);
  if (col.kind === 'time') {
    if (textOp || typeof v === 'boolean') throw mismatch();
    const ms = parseTimeBound(v);
    if (Number.isNaN(ms)) throw new ShoalError('BAD_FILTER', [`${JSON.stringify(v)} is not a time (ISO-8601 or epoch ms)`], path);
    return ms;
  }
  if (col.kind === 'actor') {
    if (typeof v === 'boolean') throw mismatch();
    return v;
  }
  if (col.type === null) return v;
  if (col.type === 'string' ? typeof v !== 'string' : col.type === 'boolean' ? typeof v !== 'boolean' || textOp : typeof v !== 'number' || textOp) throw mismatch();
  return v;
}

class FilterValidator {
  private nextId = 0;
  constructor(private readonly info: SchemaInfo) {}

  node(f: unknown, path: string, negate: boolean, depth: number): FilterNode {
    if (depth > MAX_DEPTH) throw new ShoalError('BAD_FILTER', [`filters nest deeper than ${MAX_DEPTH} levels`], path);
    if (Array.isArray(f)) return this.leaf(f, path, negate);
    if (f === null || typeof f !== 'object') {
      throw new ShoalError('BAD_FILTER', ['expected [column, op, value] or {"and"|"or"|"not": ...}'], path);
    }
    const keys = Object.keys(f);
    const key = keys[0];
    if (keys.length !== 1 || (key !== 'and' && key !== 'or' && key !== 'not')) {
      throw new ShoalError('BAD_FILTER', ['an object filter has exactly one key: "and", "or" or "not"'], path);
    }
    const body = (f as Record<string, unknown>)[key];
    if (key === 'not') return this.node(body, `${path}.not`, !negate, depth + 1);
    if (!Array.isArray(body)) throw new ShoalError('BAD_FILTER', [`"${key}" takes an array of filters`], `${path}.${key}`);
    const children = body.map((c, i) => this.node(c, `${path}.${key}[${i}]`, negate, depth + 1));
    const isAnd = (key === 'and') !== negate;
    return simplify(isAnd ? 'and' : 'or', children);
  }

  private leaf(f: unknown[], path: string, negate: boolean): FilterNode {
    const [name, op] = f;
    if (typeof name !== 'string' || name.length === 0) throw new ShoalError('BAD_FILTER', ['the first element must be a column name'], `${path}[0]`);
    if (typeof op !== 'string' || !OPS.includes(op)) {
      throw new ShoalError('BAD_FILTER', [`unknown operator ${JSON.stringify(op)}; use one of ${OPS.join(' ')}`], `${path}[1]`);
    }
    const col = resolveColumn(name, this.info);
    let value: Scalar | Scalar[] | null = null;
    if (op === 'exists' || op === '!exists') {
      if (f.length > 2) throw new ShoalError('BAD_FILTER', [`"${op}" takes no value`], `${path}[2]`);
    } else {
      if (f.length !== 3) throw new ShoalError('BAD_FILTER', [`expected [column, "${op}", value]`], path);
      const raw = f[2];
      if (op === 'in' || op === '!in') {
        if (!Array.isArray(raw)) throw new ShoalError('BAD_FILTER', [`"${op}" takes an array of values`], `${path}[2]`);
        if (raw.length > MAX_IN_VALUES) throw new ShoalError('BAD_FILTER', [`"${op}" takes at most ${MAX_IN_VALUES} values`], `${path}[2]`);
        value = raw.map((v, i) => checkValue(col, name, op, v, `${path}[2][${i}]`));
      } else {
        value = checkValue(col, name, op, raw, `${path}[2]`);
      }
    }
    const finalOp = negate ? COMPLEMENT[op as LeafOp] : (op as LeafOp);
    // A column the table has never seen is null in every row.
    if (col.kind === 'column' && col.type === null) return { kind: 'const', value: finalOp === '!exists' };
    if (col.kind !== 'column' && (finalOp === 'exists' || finalOp === '!exists')) {
      return { kind: 'const', value: finalOp === 'exists' }; // actor and time are never null
    }
    return { kind: 'leaf', id: this.nextId++, column: col, op: finalOp, value };
  }
}

/** Folds constants out of and/or and flattens nested nodes of the same kind. */
function simplify(kind: 'and' | 'or', children: FilterNode[]): FilterNode {
  const identity = kind === 'and';
  const out: FilterNode[] = [];
  for (const c of children) {
    if (c.kind === 'const') {
      if (c.value !== identity) return { kind: 'const', value: !identity };
      continue;
    }
    if (c.kind === kind) out.push(...c.children);
    else out.push(c);
  }
  const merged = mergeLists(kind, out);
  if (merged.length === 0) return { kind: 'const', value: identity };
  if (merged.length === 1) return merged[0];
  return { kind, children: merged };
}

type Leaf = Extract<FilterNode, { kind: 'leaf' }>;

/**
 * Under `or`, the `=` and `in` leaves on one column become one `in` leaf; under `and`, the `!=`
 * and `!in` leaves one `!in` (equal in three-valued logic, and `not` is already pushed down).
 * A client that spells a list as a thousand `or`ed equalities then costs one set lookup per
 * row, not a thousand passes (and, on the actor, not a thousand per-actor tables).
 */
function mergeLists(kind: 'and' | 'or', children: FilterNode[]): FilterNode[] {
  const [one, list] = kind === 'or' ? ['=', 'in'] : ['!=', '!in'];
  // per column: the position of its first such leaf in `out`, and the values of all of them
  const byColumn = new Map<string, { at: number; values: Scalar[]; leaves: number }>();
  const out: FilterNode[] = [];
  for (const c of children) {
    if (c.kind !== 'leaf' || (c.op !== one && c.op !== list)) {
      out.push(c);
      continue;
    }
    const key = JSON.stringify(c.column);
    let m = byColumn.get(key);
    if (m === undefined) {
      byColumn.set(key, (m = { at: out.length, values: [], leaves: 0 }));
      out.push(c);
    }
    if (c.op === list) for (const v of c.value as Scalar[]) m.values.push(v);
    else m.values.push(c.value as Scalar);
    m.leaves++;
  }
  // New leaf objects: the old ones may belong to filters used elsewhere (andFilters' operands).
  for (const m of byColumn.values()) if (m.leaves > 1) out[m.at] = { ...(out[m.at] as Leaf), op: list as Leaf['op'], value: m.values };
  return out;
}

/**
 * Validates `where`: one filter, or a list of filters (all must match). Paths name the bad part:
 * `where[1][2]` is the value of the second filter of a list.
 */
export function validateWhere(where: unknown, info: SchemaInfo): FilterNode {
  if (where === undefined || where === null) return { kind: 'const', value: true };
  const v = new FilterValidator(info);
  const isList = Array.isArray(where) && (where.length === 0 || typeof where[0] !== 'string');
  if (!isList) return v.node(where, 'where', false, 0);
  return simplify('and', (where as unknown[]).map((f, i) => v.node(f, `where[${i}]`, false, 1)));
}

/** Conjunction of two normalized filters. */
export function andFilters(a: FilterNode, b: FilterNode): FilterNode {
  return simplify('and', [a, b]);
}
