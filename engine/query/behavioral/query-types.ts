/**
 * Validated forms of the behavioral query kinds (`funnel`, `sessions`, `retention`, `paths`).
 * Plain data only, like the rest of query-types.ts, so queries and plans built from them
 * survive structured clone into worker threads.
 */
import type { BucketUnit, ColumnRef, FilterNode, GroupKey, MeasureSpec, OrderKey } from '../query-types.js';

interface BehavioralBase {
  table: string;
  /** Half-open range [fromMs, toMs); null when absent. */
  fromMs: number | null;
  toMs: number | null;
  where: FilterNode;
  /** Canonical IANA zone for buckets and calendar periods. */
  tz: string;
  /** The fraction of actors read, when sampled (set by validateQuery; see ../sample.ts). */
  sample?: number;
}

export type FunnelMode = 'ordered' | 'strict' | 'any';

export interface FunnelExclusion {
  filter: FilterNode;
  /** 1-based step numbers, after < before. */
  after: number;
  before: number;
}

export interface FunnelQuery extends BehavioralBase {
  kind: 'funnel';
  steps: FilterNode[];
  windowMs: number;
  mode: FunnelMode;
  exclude: FunnelExclusion[];
  groupBy: GroupKey[];
  bucket: BucketUnit | null;
  limit: number;
  other: boolean;
}

/** The session field a measure reads. */
export type SessionField = 'duration' | 'events';

export interface SessionsQuery extends BehavioralBase {
  kind: 'sessions';
  gapMs: number;
  /** null: sessions split only by `gap`. */
  maxDurationMs: number | null;
  /** Measure columns are pseudo columns named `duration` or `events` (type number). */
  measures: MeasureSpec[];
  groupBy: GroupKey[];
  bucket: BucketUnit | null;
  orderBy: OrderKey[];
  limit: number;
  other: boolean;
}

export type RetentionPeriod = '1d' | '1w' | '1mo';

export interface RetentionQuery extends BehavioralBase {
  kind: 'retention';
  start: FilterNode;
  /** `{kind: 'const', value: true}` when absent (any event returns). */
  return: FilterNode;
  period: RetentionPeriod;
  periods: number;
  groupBy: GroupKey[];
  limit: number;
}

export interface PathsQuery extends BehavioralBase {
  kind: 'paths';
  node: GroupKey;
  /** null: paths start at each session's first event. */
  start: FilterNode | null;
  direction: 'after' | 'before';
  depth: number;
  gapMs: number;
  limit: number;
}

export type BehavioralQuery = FunnelQuery | SessionsQuery | RetentionQuery | PathsQuery;

export const MAX_FUNNEL_STEPS = 20;
/** Funnel state grows as 2^exclusions (see funnel.ts). */
export const MAX_FUNNEL_EXCLUSIONS = 4;
export const MAX_RETENTION_PERIODS = 90;
export const MAX_PATH_DEPTH = 10;
export const DEFAULT_WINDOW_MS = 86_400_000;
export const DEFAULT_GAP_MS = 30 * 60_000;

export type { ColumnRef };
