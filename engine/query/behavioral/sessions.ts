/**
 * The sessions operator over one shard: per actor, events in (time, arrival) order are cut
 * into sessions where the time since the previous event exceeds `gap`, or where the session
 * would grow longer than `maxDuration` (time since the session's first event). Each session
 * (duration = last − first event time, events = count) is added to the aggregate group of
 * its first event (bucket of its start, groupBy values of that event), producing an
 * ordinary AggregatePartial that merges and finalizes like an aggregate query's. A shard is
 * cut into sessions without gathering (sessions-stream.ts) when the measures allow it and its
 * per-actor state fits the memory budget; otherwise its events are gathered per actor
 * (actor-stream.ts).
 *
 * Threading: `sessionsShard` runs on one thread and owns all its state.
 */
import { ShoalError } from '../../errors.js';
import { BucketIndexer } from '../buckets.js';
import type { GroupSet, ScanStats } from '../partial.js';
import type { ShardSnapshot } from '../source.js';
import { keyEncoder, type KeyEncoder } from '../group-keys.js';
import { collectActorRows, releaseActorRows, streamActorRows, type ActorRows } from './actor-stream.js';
import { GroupTable, keyDecoders } from './group-table.js';
import type { SessionsPartial } from './partial.js';
import type { SessionsPlan } from './plan.js';
import { SessionStates } from './session-states.js';
import { canStreamSessions, ClosedSessions, sessionActorBytes, SessionsStream } from './sessions-stream.js';

/** A shard's session groups: the aggregate groups and, for bucketed queries with totals, the per-series ones. */
class SessionGroups {
  readonly main: GroupTable;
  readonly states: SessionStates;
  readonly series: GroupTable | null;
  readonly seriesStates: SessionStates | null;
  private readonly indexer: BucketIndexer | null;
  /** Group ids of the sessions of one emitMany call. */
  private gids = new Int32Array(256);
  /** With one key and no buckets, each table's group of a key value id, plus one (0: not seen yet; see groupIdsOfKey). */
  private readonly mainOfKey = { ids: new Int32Array(0) };
  private readonly seriesOfKey = { ids: new Int32Array(0) };

  constructor(plan: SessionsPlan, encoders: KeyEncoder[], actorBase: number) {
    const agg = plan.aggregate;
    const bounds = agg.group.bucket?.boundaries ?? null;
    this.main = new GroupTable(keyDecoders(bounds, encoders), plan.limits.maxGroups);
    this.states = new SessionStates(agg.measures, plan.fields, actorBase);
    // Per-series totals beside per-bucket groups (see AggregatePlan.totals).
    const totalsFields = agg.totalsOf.map((i) => plan.fields[i]);
    this.series = agg.totals === null ? null : new GroupTable(keyDecoders(null, encoders), plan.limits.maxGroups);
    this.seriesStates = agg.totals === null ? null : new SessionStates(agg.totals, totalsFields, actorBase);
    this.indexer = bounds === null || bounds.length < 2 ? null : new BucketIndexer(bounds);
  }

  /** Adds closed sessions, each to the group of its first event (bucket of its start, extra values). */
  emitMany(s: ClosedSessions): void {
    if (this.gids.length < s.n) this.gids = new Int32Array(Math.max(s.n, 2 * this.gids.length));
    const gids = this.gids;
    const oneKey = s.keys.length === 1;
    if (oneKey && this.indexer === null) groupIdsOfKey(this.main, s.keys[0], s.n, this.mainOfKey, gids);
    else groupIds(this.main, s, this.indexer, gids);
    this.states.ensure(this.main.size);
    this.states.addMany(gids, s.actor, s.durationMs, s.events, s.n);
    if (this.series !== null) {
      if (oneKey) groupIdsOfKey(this.series, s.keys[0], s.n, this.seriesOfKey, gids);
      else groupIds(this.series, s, null, gids);
      this.seriesStates!.ensure(this.series.size);
      this.seriesStates!.addMany(gids, s.actor, s.durationMs, s.events, s.n);
    }
  }

  bytes(): number {
    return this.main.bytes() + this.states.bytes() + (this.series?.bytes() ?? 0) + (this.seriesStates?.bytes() ?? 0);
  }
}

/** out[i] = the group of session i in `table`: its bucket (when `indexer` is given), then its keys. */
function groupIds(table: GroupTable, s: ClosedSessions, indexer: BucketIndexer | null, out: Int32Array): void {
  const tuple = table.tuple;
  const offset = indexer === null ? 0 : 1;
  const width = s.keys.length;
  for (let i = 0; i < s.n; i++) {
    if (indexer !== null) tuple[0] = indexer.indexOf(s.firstMs[i]);
    for (let x = 0; x < width; x++) tuple[offset + x] = s.keys[x][i];
    out[i] = table.lookup();
  }
}

/**
 * groupIds for a table of one key (no bucket): a key value id's group is looked up in the table
 * once and then read from `memo` (ids[key] = group + 1), instead of hashing each session's
 * tuple — the key ids are small and dense (group-keys.ts), and a shard closes millions of sessions.
 * Groups are still made in the order their keys first appear, as groupIds makes them.
 */
function groupIdsOfKey(table: GroupTable, keys: Int32Array, n: number, memo: { ids: Int32Array }, out: Int32Array): void {
  let ids = memo.ids;
  for (let i = 0; i < n; i++) {
    const k = keys[i];
    if (k >= ids.length) {
      const grown = new Int32Array(Math.max(k + 1, 2 * ids.length, 64));
      grown.set(ids);
      memo.ids = ids = grown;
    }
    let g = ids[k] - 1;
    if (g < 0) {
      table.tuple[0] = k;
      g = table.lookup();
      ids[k] = g + 1;
    }
    out[i] = g;
  }
}

/** Streams the shard into new groups (see sessions-stream.ts); null when it cannot (`stats` untouched). */
function streamSessions(shard: ShardSnapshot, plan: SessionsPlan, stats: ScanStats, signal: AbortSignal | undefined, actorBase: number): SessionGroups | null {
  const agg = plan.aggregate;
  if (!canStreamSessions(agg.measures, agg.totals)) return null;
  if (shard.actorCount * sessionActorBytes(plan.stream.extras.length) > plan.limits.memoryBudgetBytes) return null;
  const encoders = plan.stream.extras.map((ref) => keyEncoder(ref));
  const groups = new SessionGroups(plan, encoders, actorBase);
  const stream = new SessionsStream(shard.actorCount, encoders.length, plan.query.gapMs, plan.query.maxDurationMs ?? Infinity, groups);
  if (streamActorRows(shard, plan.stream, stats, stream.sink, { signal, encoders, budgetBytes: plan.limits.memoryBudgetBytes }) === null) return null;
  stream.finish();
  return groups;
}

/** Runs a sessions plan over one shard. */
export function sessionsShard(shard: ShardSnapshot, plan: SessionsPlan, signal?: AbortSignal): SessionsPartial {
  const stats: ScanStats = { rowsScanned: 0, segmentsScanned: 0, segmentsSkipped: 0 };
  const agg = plan.aggregate;
  const bounds = agg.group.bucket?.boundaries ?? null;
  const noBuckets = bounds !== null && bounds.length < 2;
  const actorBase = shard.shard * 4294967296;
  let groups = noBuckets ? null : streamSessions(shard, plan, stats, signal, actorBase);
  if (groups === null) {
    const rows = noBuckets ? null : collectActorRows(shard, plan.stream, stats, plan.limits.memoryBudgetBytes, signal);
    // Without rows the groups still need a key column per groupBy column: the partial's keys
    // must be as wide as the plan's (finalize reads each column, to type it).
    groups = new SessionGroups(plan, rows?.encoders ?? plan.stream.extras.map((ref) => keyEncoder(ref)), actorBase);
    if (rows !== null) {
      sessionsOfRows(rows, plan, groups, signal);
      releaseActorRows(rows);
    }
  }
  const { main, states, series, seriesStates } = groups;
  const memoryBytes = groups.bytes();
  if (memoryBytes > plan.limits.memoryBudgetBytes) throw new ShoalError('QUERY_MEMORY_EXCEEDED', [plan.limits.memoryBudgetBytes, `~${memoryBytes} bytes of session groups in shard ${shard.shard}`]);
  const mainSet: GroupSet = { groups: main.size, keys: main.keys(), states: states.result(main.size) };
  const totals: GroupSet | null = series === null ? null : { groups: series.size, keys: series.keys(), states: seriesStates!.result(series.size) };
  return {
    kind: 'sessions',
    shards: [shard.shard],
    stats,
    aggregate: {
      kind: 'aggregate', shards: [shard.shard], actorKeyed: agg.group.keys.some((k) => k.column.kind === 'actor'),
      memoryBytes, main: mainSet, totals, stats,
    },
  };
}

/** Sessions emitted per batch by the gathered path. */
const GATHERED_BATCH = 4096;

/** Cuts gathered rows into sessions, actor after actor. */
function sessionsOfRows(rows: ActorRows, plan: SessionsPlan, groups: SessionGroups, signal: AbortSignal | undefined): void {
  const { actors, times, extras, ranges, rangeStart } = rows;
  const gap = plan.query.gapMs;
  const maxDur = plan.query.maxDurationMs ?? Infinity;
  // ref: the row of the session's first event, whose extra values are its keys
  const closed = new ClosedSessions(extras.length);
  const flush = (): void => {
    for (let x = 0; x < extras.length; x++) for (let i = 0; i < closed.n; i++) closed.keys[x][i] = extras[x][closed.ref[i]];
    groups.emitMany(closed);
    closed.n = 0;
  };
  for (let k = 0; k < rows.actorCount; k++) {
    if ((k & 1023) === 0) signal?.throwIfAborted(); // a shard may hold millions of actors
    const actor = actors[ranges[2 * rangeStart[k]]];
    let first = -1;
    let firstT = 0;
    let prevT = 0;
    let count = 0;
    for (let r = rangeStart[k]; r < rangeStart[k + 1]; r++) {
      for (let i = ranges[2 * r], hi = ranges[2 * r + 1]; i < hi; i++) {
        const t = times[i];
        // A session ends at a gap longer than `gap`, or when it would grow longer than maxDuration.
        if (count > 0 && (t - prevT > gap || t - firstT > maxDur)) {
          closed.push(actor, firstT, prevT - firstT, count, first);
          count = 0;
        }
        if (count === 0) {
          first = i;
          firstT = t;
        }
        count++;
        prevT = t;
      }
    }
    if (count > 0) closed.push(actor, firstT, prevT - firstT, count, first);
    if (closed.n >= GATHERED_BATCH) flush();
  }
  flush();
}
