/**
 * Partial results: what `runShardPartial` returns for one or more whole shards, and what
 * `mergePartials` combines. Plain data only (arrays, typed arrays, Sets, plain objects), so
 * partials cross worker threads (structured clone) or, later, machines.
 *
 * Contract: the partials given to one merge cover disjoint sets of shards (uniq($actor)
 * counts distinct actors per shard, and those add up only because an actor lives in exactly
 * one shard). Groups are identified by their key values, never by per-shard ids.
 */
import { ShoalError } from '../errors.js';
import type { Value } from '../types.js';
import { emptyState, mergeGroup, type MeasureState } from './measure-state.js';
import { mergeBehavioralPartials, type BehavioralPartial } from './behavioral/partial.js';

export interface ScanStats {
  /** Rows of the row groups read (before filtering). */
  rowsScanned: number;
  /** Sources (segments and in-memory tails) with at least one row group read. */
  segmentsScanned: number;
  /** Sources skipped whole, by time range or zone maps. */
  segmentsSkipped: number;
}

/** Groups with their key values (column-wise) and measure states (column-wise). */
export interface GroupSet {
  groups: number;
  /** keys[j][g]: value of key column j of group g. */
  keys: Value[][];
  states: MeasureState[];
}

export interface AggregatePartial {
  kind: 'aggregate';
  shards: number[];
  /**
   * A group key is the actor: an actor lives in one shard, so groups of different shards
   * never coincide and merging is concatenation.
   */
  actorKeyed: boolean;
  /** Approximate bytes the partial holds (group keys, sets, sketches), for the query's budget. */
  memoryBytes: number;
  /** Keys: the bucket start first (when the query has a bucket), then the groupBy columns. */
  main: GroupSet;
  /** Per series (groupBy values) over the whole range, for ranking; see plan.totals. */
  totals: GroupSet | null;
  stats: ScanStats;
}

export interface SampleRow {
  timeMs: number;
  /** Tie-break among equal times (shard, then source, then row, latest first): one actor's later arrival first. */
  order: [number, number, number];
  values: Value[];
}

export interface SamplesPartial {
  kind: 'samples';
  shards: number[];
  limit: number;
  /** Newest first, at most `limit`. */
  rows: SampleRow[];
  stats: ScanStats;
}

export type Partial = AggregatePartial | SamplesPartial | BehavioralPartial;

export function emptyStats(): ScanStats {
  return { rowsScanned: 0, segmentsScanned: 0, segmentsSkipped: 0 };
}

function addStats(a: ScanStats, b: ScanStats): ScanStats {
  return { rowsScanned: a.rowsScanned + b.rowsScanned, segmentsScanned: a.segmentsScanned + b.segmentsScanned, segmentsSkipped: a.segmentsSkipped + b.segmentsSkipped };
}

/** An unambiguous text key of a tuple of values ("s3:abc|n42|z|b1"). */
export function tupleKey(values: readonly Value[]): string {
  let out = '';
  for (const v of values) {
    if (v === null) out += 'z|';
    else if (typeof v === 'string') out += `s${v.length}:${v}|`;
    else if (typeof v === 'number') out += `n${v === 0 ? 0 : v}|`;
    else out += v ? 'b1|' : 'b0|';
  }
  return out;
}

/** Concatenates group sets known to share no group (different shards, keyed by actor). */
function concatGroupSets(sets: GroupSet[], maxGroups: number): GroupSet {
  const groups = sets.reduce((n, s) => n + s.groups, 0);
  if (groups > maxGroups) throw new ShoalError('TOO_MANY_GROUPS', [maxGroups]);
  const keys = sets[0].keys.map((_, j) => sets.flatMap((s) => s.keys[j]));
  const states = sets[0].states.map((st, m) => {
    const dst = emptyState(st.kind, groups);
    let at = 0;
    for (const s of sets) {
      for (let g = 0; g < s.groups; g++) mergeGroup(dst, at + g, s.states[m], g);
      at += s.groups;
    }
    return dst;
  });
  return { groups, keys, states };
}

/** Merges group sets whose states have the same kinds, matching groups by key values. */
export function mergeGroupSets(sets: GroupSet[], maxGroups = Infinity, disjoint = false): GroupSet {
  if (disjoint) return concatGroupSets(sets, maxGroups);
  const width = sets[0].keys.length;
  // One key column: its values are the map keys (Map tells 1 from "1", and 0 from null).
  const ids = new Map<Value, number>();
  const keys: Value[][] = Array.from({ length: width }, () => []);
  const maps = sets.map((s) => {
    const map = new Int32Array(s.groups);
    const tuple: Value[] = new Array<Value>(width);
    for (let g = 0; g < s.groups; g++) {
      for (let j = 0; j < width; j++) tuple[j] = s.keys[j][g];
      const k = width === 1 ? tuple[0] : tupleKey(tuple);
      let id = ids.get(k);
      if (id === undefined) {
        id = ids.size;
        if (id >= maxGroups) throw new ShoalError('TOO_MANY_GROUPS', [maxGroups]);
        ids.set(k, id);
        for (let j = 0; j < width; j++) keys[j].push(tuple[j]);
      }
      map[g] = id;
    }
    return map;
  });
  const groups = ids.size;
  const states = sets[0].states.map((st, m) => {
    const dst = emptyState(st.kind, groups);
    sets.forEach((s, i) => {
      const src = s.states[m];
      const map = maps[i];
      for (let g = 0; g < s.groups; g++) mergeGroup(dst, map[g], src, g);
    });
    return dst;
  });
  return { groups, keys, states };
}

function mergeSamples(parts: SamplesPartial[]): SamplesPartial {
  const rows = parts.flatMap((p) => p.rows);
  rows.sort(compareSampleRows);
  const limit = parts[0].limit;
  return {
    kind: 'samples',
    shards: parts.flatMap((p) => p.shards),
    limit,
    rows: rows.slice(0, limit),
    stats: parts.map((p) => p.stats).reduce(addStats, emptyStats()),
  };
}

/** Newest first; among equal times, later (shard, source, row) first: an actor's later arrival first. */
export function compareSampleRows(a: SampleRow, b: SampleRow): number {
  if (a.timeMs !== b.timeMs) return b.timeMs - a.timeMs;
  for (let i = 0; i < 3; i++) if (a.order[i] !== b.order[i]) return b.order[i] - a.order[i];
  return 0;
}

/**
 * Combines partials of disjoint shard sets into one (associative: partials may be merged in
 * any grouping, on any thread).
 */
export function mergePartials(partials: readonly Partial[], options: { maxGroups?: number } = {}): Partial {
  if (partials.length === 0) throw new ShoalError('INTERNAL', ['mergePartials needs at least one partial']);
  const seen = new Set<number>();
  for (const p of partials) {
    for (const s of p.shards) {
      if (seen.has(s)) throw new ShoalError('INTERNAL', [`shard ${s} appears in two partials; partials must cover disjoint shards`]);
      seen.add(s);
    }
  }
  if (partials.length === 1) return partials[0];
  if (partials[0].kind === 'samples') return mergeSamples(partials as SamplesPartial[]);
  if (partials[0].kind !== 'aggregate') return mergeBehavioralPartials(partials as BehavioralPartial[], options.maxGroups ?? Infinity);
  const parts = partials as AggregatePartial[];
  const maxGroups = options.maxGroups ?? Infinity;
  const disjoint = parts.every((p) => p.actorKeyed);
  return {
    kind: 'aggregate',
    shards: [...seen],
    actorKeyed: disjoint,
    memoryBytes: parts.reduce((n, p) => n + p.memoryBytes, 0),
    main: mergeGroupSets(parts.map((p) => p.main), maxGroups, disjoint),
    totals: parts[0].totals === null ? null : mergeGroupSets(parts.map((p) => p.totals!), maxGroups, disjoint),
    stats: parts.map((p) => p.stats).reduce(addStats, emptyStats()),
  };
}
