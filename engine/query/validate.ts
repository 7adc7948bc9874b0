/**
 * `validateQuery`: turns the JSON body of an `aggregate` or `samples` query into a `Query`, or
 * throws a ShoalError whose `path` names the bad part (`where[1][0]`, `measures[2]`,
 * `groupBy[0]`, `orderBy[0][1]`, …). Unknown fields are errors, so a typo never silently
 * changes an answer. The caller resolves `table` to a snapshot (UNKNOWN_TABLE is its error).
 */
import { ShoalError } from '../errors.js';
import {
  BUCKET_UNITS, DEFAULT_LIMIT, DEFAULT_SAMPLES_LIMIT, MAX_LIMIT, MAX_SAMPLES_LIMIT,
  type AggregateQuery, type BucketUnit, type GroupKey, type MeasureSpec, type OrderKey, type Query, type SamplesQuery, type SchemaInfo,
} from './query-types.js';
import { parseTimeBound } from './time-parse.js';
import { canonicalTimeZone } from './tz.js';
import { sampleFraction } from './sample.js';
import { resolveColumn, validateWhere } from './validate-filter.js';
import { validateMeasures } from './validate-measure.js';
import { BEHAVIORAL_KINDS, validateBehavioral } from './behavioral/validate-kinds.js';

const AGGREGATE_FIELDS = new Set(['table', 'kind', 'from', 'to', 'where', 'groupBy', 'bucket', 'tz', 'measures', 'orderBy', 'limit', 'other']);
const SAMPLES_FIELDS = new Set(['table', 'kind', 'from', 'to', 'where', 'limit', 'columns']);

export function bad(message: string, path: string): ShoalError {
  return new ShoalError('BAD_QUERY', [message], path);
}

export function checkFields(q: Record<string, unknown>, allowed: Set<string>, kind: string): void {
  for (const key of Object.keys(q)) {
    if (!allowed.has(key)) throw bad(`unknown field "${key}" for kind "${kind}"; fields are ${[...allowed].join(', ')}`, key);
  }
}

export function timeRange(q: Record<string, unknown>): { fromMs: number | null; toMs: number | null } {
  const bound = (key: 'from' | 'to'): number | null => {
    const v = q[key];
    if (v === undefined || v === null) return null;
    const ms = parseTimeBound(v);
    if (Number.isNaN(ms)) throw new ShoalError('BAD_TIME_RANGE', [`"${key}" must be an ISO-8601 time or epoch ms, got ${JSON.stringify(v)}`], key);
    return ms;
  };
  const fromMs = bound('from');
  const toMs = bound('to');
  if (fromMs !== null && toMs !== null && fromMs > toMs) throw new ShoalError('BAD_TIME_RANGE', ['"from" is after "to"'], 'from');
  return { fromMs, toMs };
}

export function limitOf(v: unknown, dflt: number, max: number): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) throw new ShoalError('LIMIT_OUT_OF_RANGE', [max, JSON.stringify(v)], 'limit');
  return v;
}

/** Validates a list of column names (groupBy, samples columns): each must exist in the table. */
export function columnList(raw: unknown, info: SchemaInfo, field: string): GroupKey[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw bad(`"${field}" is a list of column names`, field);
  if (raw.length > 100) throw bad(`"${field}" takes at most 100 columns`, field);
  const seen = new Set<string>();
  return raw.map((name, i) => {
    const path = `${field}[${i}]`;
    if (typeof name !== 'string' || name.length === 0) throw bad('expected a column name', path);
    if (name === '$bucket') throw bad('group by time with "bucket": "1h" (and so on), not "$bucket"', path);
    if (seen.has(name)) throw bad(`column "${name}" is listed twice`, path);
    seen.add(name);
    const column = resolveColumn(name, info);
    if (column.kind === 'column' && column.type === null) throw new ShoalError('UNKNOWN_COLUMN', [name], path);
    return { name, column };
  });
}

/**
 * Rejects a group column named like another result column (a measure, or a column the kind
 * generates): rows read by name, or an `orderBy` on that name, would silently get one of the two.
 * @param others each other result column's name → what it is, for the message ("the measure")
 */
export function checkGroupNames(groupBy: readonly GroupKey[], others: ReadonlyMap<string, string>): void {
  groupBy.forEach((g, i) => {
    const what = others.get(g.name);
    if (what === undefined) return;
    const hint = what === 'the measure' ? '; spell the measure another way (e.g. "count()" for "count")' : '';
    throw bad(`column "${g.name}" has the name of ${what} "${g.name}" in the result, whose column names must differ${hint}`, `groupBy[${i}]`);
  });
}

/** The measures' result names, for checkGroupNames. */
export function measureNames(measures: readonly MeasureSpec[]): Map<string, string> {
  return new Map(measures.map((m) => [m.name, 'the measure']));
}

export function bucketOf(v: unknown): BucketUnit | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' || !(BUCKET_UNITS as readonly string[]).includes(v)) {
    throw new ShoalError('BAD_BUCKET', [`${JSON.stringify(v)} is not one of ${BUCKET_UNITS.join(' ')}`], 'bucket');
  }
  return v as BucketUnit;
}

export function tzOf(v: unknown): string {
  if (v === undefined || v === null) return 'UTC';
  const tz = typeof v === 'string' ? canonicalTimeZone(v) : null;
  if (tz === null) throw new ShoalError('BAD_TZ', [typeof v === 'string' ? v : JSON.stringify(v)], 'tz');
  return tz;
}

export function orderByOf(raw: unknown, names: Set<string>, measures: MeasureSpec[], bucket: boolean): OrderKey[] {
  if (raw === undefined || raw === null) {
    const dflt: OrderKey[] = [];
    if (bucket) dflt.push({ name: '$bucket', desc: false });
    dflt.push({ name: measures[0].name, desc: true });
    return dflt;
  }
  if (!Array.isArray(raw)) throw new ShoalError('BAD_ORDER_BY', ['expected a list of [name, "asc"|"desc"]'], 'orderBy');
  return raw.map((entry, i) => {
    const path = `orderBy[${i}]`;
    const [name, dir] = Array.isArray(entry) ? entry : [entry, 'asc'];
    // a third element (say "nulls first") would be ignored: a typo must not pass unnoticed
    if (Array.isArray(entry) && entry.length > 2) throw new ShoalError('BAD_ORDER_BY', ['an entry is [name, "asc"|"desc"]; nulls sort last in either direction'], `${path}[2]`);
    if (typeof name !== 'string' || !names.has(name)) {
      throw new ShoalError('BAD_ORDER_BY', [`${JSON.stringify(name)} is not a result column; use one of ${[...names].map((n) => JSON.stringify(n)).join(', ')}`], `${path}[0]`);
    }
    if (dir !== undefined && dir !== 'asc' && dir !== 'desc') throw new ShoalError('BAD_ORDER_BY', [`direction must be "asc" or "desc", got ${JSON.stringify(dir)}`], `${path}[1]`);
    return { name, desc: dir === 'desc' };
  });
}

function validateAggregate(q: Record<string, unknown>, info: SchemaInfo): AggregateQuery {
  checkFields(q, AGGREGATE_FIELDS, 'aggregate');
  const { fromMs, toMs } = timeRange(q);
  const where = validateWhere(q.where, info);
  const groupBy = columnList(q.groupBy, info, 'groupBy');
  const bucket = bucketOf(q.bucket);
  const tz = tzOf(q.tz);
  const measures = validateMeasures(q.measures, info);
  checkGroupNames(groupBy, measureNames(measures));
  const names = new Set<string>([...(bucket !== null ? ['$bucket'] : []), ...groupBy.map((g) => g.name), ...measures.map((m) => m.name)]);
  const orderBy = orderByOf(q.orderBy, names, measures, bucket !== null);
  const limit = limitOf(q.limit, DEFAULT_LIMIT, MAX_LIMIT);
  if (q.other !== undefined && q.other !== null && typeof q.other !== 'boolean') throw bad('"other" is true or false', 'other');
  return { kind: 'aggregate', table: q.table as string, fromMs, toMs, where, groupBy, bucket, tz, measures, orderBy, limit, other: q.other === true };
}

function validateSamples(q: Record<string, unknown>, info: SchemaInfo): SamplesQuery {
  checkFields(q, SAMPLES_FIELDS, 'samples');
  const { fromMs, toMs } = timeRange(q);
  const where = validateWhere(q.where, info);
  let columns = columnList(q.columns, info, 'columns');
  // An empty list would answer one empty row per event.
  if (Array.isArray(q.columns) && q.columns.length === 0) throw bad('"columns" lists at least one column (leave it out for all of them)', 'columns');
  if (q.columns === undefined || q.columns === null) {
    const names = [info.actorColumn, info.timeColumn, ...info.schema.keys()];
    columns = names.map((name) => ({ name, column: resolveColumn(name, info) }));
  }
  const limit = limitOf(q.limit, DEFAULT_SAMPLES_LIMIT, MAX_SAMPLES_LIMIT);
  return { kind: 'samples', table: q.table as string, fromMs, toMs, where, columns, limit };
}

/**
 * Validates an `aggregate` (the default kind) or `samples` query against a table's schema.
 * @param json the parsed request body
 * @param info the table's actor/time column names and schema (a TableSnapshot will do)
 */
export function validateQuery(json: unknown, info: SchemaInfo): Query {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new ShoalError('BAD_QUERY', ['a query is a JSON object']);
  const q = json as Record<string, unknown>;
  if (typeof q.table !== 'string' || q.table.length === 0) throw bad('"table" is required', 'table');
  // `sample` applies to every kind (sample.ts): checked here, then the kind's own fields.
  if ('sample' in q) {
    const { sample, ...rest } = q;
    const fraction = sampleFraction(sample);
    return fraction === null ? validateQuery(rest, info) : { ...validateQuery(rest, info), sample: fraction };
  }
  const kind = q.kind ?? 'aggregate';
  if (kind === 'aggregate') return validateAggregate(q, info);
  if (kind === 'samples') return validateSamples(q, info);
  if (typeof kind === 'string' && BEHAVIORAL_KINDS.includes(kind)) return validateBehavioral(q, info);
  throw bad(`kind ${JSON.stringify(kind)} is not handled here; kinds are aggregate, funnel, sessions, retention, paths, samples`, 'kind');
}
