/**
 * The validated form of a query (what `validateQuery` returns and the planner consumes).
 * Everything here is plain data: no classes, no functions, so a query (and the plan built from
 * it) can be sent to a worker thread with structured clone.
 */
import type { ColumnType, Scalar } from '../types.js';
import type { BehavioralQuery } from './behavioral/query-types.js';

/** A column as the query names it, resolved against the table's schema. */
export type ColumnRef =
  | { kind: 'actor' }
  | { kind: 'time' }
  /** `type` is null when the table has never seen the column (filters on it match nothing). */
  | { kind: 'column'; name: string; type: ColumnType | null };

/**
 * Filter operators after normalization. `not` is pushed down to the leaves (negation normal
 * form), which adds `!startsWith`; under SQL-like null semantics this is exact (see filter.ts).
 */
export type LeafOp =
  | '=' | '!=' | '<' | '<=' | '>' | '>='
  | 'in' | '!in'
  | 'contains' | '!contains' | 'startsWith' | '!startsWith'
  | 'exists' | '!exists';

export type FilterNode =
  | { kind: 'and'; children: FilterNode[] }
  | { kind: 'or'; children: FilterNode[] }
  /** `id` is unique within one query; executors cache per-dictionary predicate results by it. */
  | { kind: 'leaf'; id: number; column: ColumnRef; op: LeafOp; value: Scalar | Scalar[] | null }
  | { kind: 'const'; value: boolean };

export type MeasureFn = 'count' | 'sum' | 'avg' | 'min' | 'max' | 'uniq' | 'quantile';

export interface MeasureSpec {
  /** The measure as written, e.g. "p99(latency_ms)"; also its result column name. */
  name: string;
  fn: MeasureFn;
  /** null for `count` (all rows). */
  column: ColumnRef | null;
  /** For `quantile`: the fraction in (0, 1), e.g. 0.99. */
  q: number | null;
}

export type BucketUnit = '1m' | '5m' | '15m' | '30m' | '1h' | '3h' | '6h' | '12h' | '1d' | '1w' | '1mo';

export const BUCKET_UNITS: readonly BucketUnit[] = ['1m', '5m', '15m', '30m', '1h', '3h', '6h', '12h', '1d', '1w', '1mo'];

export interface OrderKey {
  /** A group column name (`$bucket` included) or a measure name, as written in the query. */
  name: string;
  desc: boolean;
}

export interface GroupKey {
  /** As written (the result column name). */
  name: string;
  column: ColumnRef;
}

interface QueryBase {
  table: string;
  /** Half-open range [fromMs, toMs); null when absent. */
  fromMs: number | null;
  toMs: number | null;
  where: FilterNode;
  /** `"sample": f`: the fraction of actors read (0 < f < 1); absent when unsampled (see sample.ts). */
  sample?: number;
}

export interface AggregateQuery extends QueryBase {
  kind: 'aggregate';
  groupBy: GroupKey[];
  bucket: BucketUnit | null;
  /** Canonical IANA name (as Intl resolves it). */
  tz: string;
  measures: MeasureSpec[];
  orderBy: OrderKey[];
  limit: number;
  other: boolean;
}

export interface SamplesQuery extends QueryBase {
  kind: 'samples';
  /** Output columns, in order; the default is the actor column, the time column, then the schema. */
  columns: GroupKey[];
  limit: number;
}

export type Query = AggregateQuery | SamplesQuery | BehavioralQuery;

/** What validation needs to know about the table. `TableSnapshot` satisfies it. */
export interface SchemaInfo {
  readonly actorColumn: string;
  readonly timeColumn: string;
  readonly schema: ReadonlyMap<string, ColumnType>;
}

export const DEFAULT_LIMIT = 1000;
export const MAX_LIMIT = 100_000;
export const DEFAULT_SAMPLES_LIMIT = 100;
export const MAX_SAMPLES_LIMIT = 10_000;
