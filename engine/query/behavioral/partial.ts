/**
 * Partial results of the behavioral kinds and their merge. Every partial is plain data (group
 * key values, typed arrays, sketches), keyed by values rather than per-shard ids, so partials
 * of disjoint shard sets merge associatively on any thread or machine. Per-actor work never
 * crosses shards (an actor lives in one shard), so per-actor counts simply add up.
 *
 *   funnel:    groups [$bucket?, groupBy…] → count per step, sketch of time to convert per step ≥ 2
 *   sessions:  an AggregatePartial (session rows feed ordinary aggregate states)
 *   retention: groups [$cohort, groupBy…] → cohort size, count per period
 *   paths:     node list; paths (node codes node0 … nodeD) → sessions; edges (depth, from, to) → sessions
 */
import type { Value } from '../../types.js';
import { mergeGroupSets, mergePartials as mergeAggregatePartials, type AggregatePartial, type GroupSet, type ScanStats } from '../partial.js';
import { mergePaths } from './paths.js';

export interface FunnelPartial {
  kind: 'funnel';
  shards: number[];
  memoryBytes: number;
  /** States: `count` of actors reaching step 1 … S, then a `sketch` of time to convert for steps 2 … S. */
  main: GroupSet;
  stats: ScanStats;
}

export interface SessionsPartial {
  kind: 'sessions';
  shards: number[];
  aggregate: AggregatePartial;
  stats: ScanStats;
}

export interface RetentionPartial {
  kind: 'retention';
  shards: number[];
  memoryBytes: number;
  /** Keys: cohort start (ms), then groupBy values. States: `count` cohort size, then period 0 … N. */
  main: GroupSet;
  stats: ScanStats;
}

/** Tuples of node codes (`width` per entry, flattened) with their session counts. */
export interface PathCounts {
  n: number;
  codes: Int32Array;
  counts: Float64Array;
}

export interface PathsPartial {
  kind: 'paths';
  shards: number[];
  memoryBytes: number;
  depth: number;
  /** Node values by code; code 0 is null (a node without a value, or past the session's end). */
  nodes: Value[];
  /** Paths: node0 … node{depth} codes. */
  paths: PathCounts;
  /** Edges: depth, from code, to code. */
  edges: PathCounts;
  stats: ScanStats;
}

export type BehavioralPartial = FunnelPartial | SessionsPartial | RetentionPartial | PathsPartial;

export function addStats(parts: { stats: ScanStats }[]): ScanStats {
  const out: ScanStats = { rowsScanned: 0, segmentsScanned: 0, segmentsSkipped: 0 };
  for (const p of parts) {
    out.rowsScanned += p.stats.rowsScanned;
    out.segmentsScanned += p.stats.segmentsScanned;
    out.segmentsSkipped += p.stats.segmentsSkipped;
  }
  return out;
}

/** Merges partials of one behavioral kind covering disjoint shards (the caller checks disjointness). */
export function mergeBehavioralPartials(parts: BehavioralPartial[], maxGroups: number): BehavioralPartial {
  const shards = parts.flatMap((p) => p.shards);
  const stats = addStats(parts);
  const bytes = (ps: { memoryBytes: number }[]): number => ps.reduce((n, p) => n + p.memoryBytes, 0);
  switch (parts[0].kind) {
    case 'funnel': {
      const ps = parts as FunnelPartial[];
      return { kind: 'funnel', shards, memoryBytes: bytes(ps), main: mergeGroupSets(ps.map((p) => p.main), maxGroups), stats };
    }
    case 'retention': {
      const ps = parts as RetentionPartial[];
      return { kind: 'retention', shards, memoryBytes: bytes(ps), main: mergeGroupSets(ps.map((p) => p.main), maxGroups), stats };
    }
    case 'paths': {
      const ps = parts as PathsPartial[];
      return { kind: 'paths', shards, memoryBytes: bytes(ps), stats, depth: ps[0].depth, ...mergePaths(ps, maxGroups) };
    }
    case 'sessions': {
      const ps = parts as SessionsPartial[];
      const aggregate = mergeAggregatePartials(ps.map((p) => p.aggregate), { maxGroups }) as AggregatePartial;
      return { kind: 'sessions', shards, aggregate, stats };
    }
  }
}
