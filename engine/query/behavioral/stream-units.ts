/**
 * Which sources a behavioral stream reads, and how (actor-stream.ts): the shard's sources in
 * range grouped into units in time order — one source read as it lies, or sources overlapping in
 * time merged by actor as they are read (overlap-merge.ts) — and the per-source facts the
 * merge needs (is it a tail, the largest actor id of a segment's row group).
 *
 * Threading: pure functions over a snapshot; any thread.
 */
import type { ColumnVector } from '../../types.js';
import { sourceInRange, type ScanSource, type ShardSnapshot } from '../source.js';
import type { StreamNode } from './plan.js';
import { MAX_LANES } from './tiled-stream.js';

/** The sources the behavioral reader reads: a sampled shard's unfiltered ones, whose rows it filters by actor itself. */
export function readSources(shard: ShardSnapshot): readonly ScanSource[] {
  return shard.actorFilter?.sources ?? shard.sources;
}

/**
 * Sources a stream reads together: `direct`, one source whose actors' events already come in
 * time order (a segment, or a tail without late events), read as it lies; otherwise sources
 * that overlap in time, in source order, merged by actor as they are read (overlap-merge.ts).
 */
export interface StreamUnit {
  sources: ScanSource[];
  direct: boolean;
}

/** A tail: in arrival order, not sorted by actor (segments are; see ScanSource.readActorIds). */
export function isTail(s: ScanSource): boolean {
  return s.id.startsWith('tail:');
}

/**
 * The sources of a shard that a stream reads, as units in time order: sources by first time,
 * and a new unit wherever a source starts after the last time of all those before it (at that
 * time, only when it also comes later in source order, so equal times keep arrival order).
 * Reading the units one after another then yields every actor's events in (time, arrival)
 * order. Day partitions and compacted segments make one unit each; the segments of a partition
 * before compaction, or a tail holding late events, share one.
 */
export function streamUnits(shard: ShardSnapshot, stream: StreamNode): StreamUnit[] {
  const inRange = readSources(shard).map((s, i) => ({ s, i })).filter(({ s }) => sourceInRange(s, stream.fromMs, stream.toMs));
  inRange.sort((x, y) => x.s.minTimeMs - y.s.minTimeMs || x.i - y.i);
  const groups: { s: ScanSource; i: number }[][] = [];
  let maxTime = -Infinity;
  let maxIndex = -1;
  for (const x of inRange) {
    if (x.s.minTimeMs > maxTime || (x.s.minTimeMs === maxTime && x.i > maxIndex)) groups.push([x]);
    else groups[groups.length - 1].push(x);
    maxTime = Math.max(maxTime, x.s.maxTimeMs);
    maxIndex = Math.max(maxIndex, x.i);
  }
  return groups.map((g) => {
    const sources = g.sort((x, y) => x.i - y.i).map(({ s }) => s);
    return { sources, direct: sources.length === 1 && (!isTail(sources[0]) || actorsInTimeOrder(sources[0], shard.actorCount)) };
  });
}

/** The units from `u` on that a tiled run reads together: consecutive single segments read as they lie, at most MAX_LANES. */
export function tileableRun(units: readonly StreamUnit[], u: number): ScanSource[] {
  const run: ScanSource[] = [];
  for (let i = u; i < units.length && run.length < MAX_LANES && units[i].direct && !isTail(units[i].sources[0]); i++) run.push(units[i].sources[0]);
  return run;
}

/** The largest actor id in row group `rg` of a segment (its last row's: segments are sorted by actor). */
export function lastActor(s: ScanSource, rg: number): number {
  const known = s.rowGroups[rg].actorMax;
  if (known !== undefined) return known;
  const ids = s.readActorIds(rg);
  return ids[ids.length - 1];
}

/**
 * Whether every actor's rows of a source (the tail, in arrival order) come in time order — a
 * cheap pass over two columns of a small source, so that a tail without late events streams as
 * it lies, and one with late events is sorted first (see streamUnits). Conservative: it checks
 * all rows, not only those the stream keeps.
 */
function actorsInTimeOrder(source: ScanSource, actorCount: number): boolean {
  const lastT = new Float64Array(actorCount).fill(-Infinity);
  for (let g = 0; g < source.rowGroups.length; g++) {
    const ids = source.readActorIds(g);
    const vec = source.readColumn('$time', g) as Extract<ColumnVector, { type: 'time' }>;
    const times = vec.values;
    for (let i = 0; i < ids.length; i++) {
      const a = ids[i];
      if (a >= actorCount || times[i] < lastT[a]) return false;
      lastT[a] = times[i];
    }
  }
  return true;
}
