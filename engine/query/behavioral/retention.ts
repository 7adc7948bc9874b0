/**
 * The retention operator over one shard: per actor, the cohort is the calendar period (in
 * `tz`) of the actor's first `start` event inside [from, to); the actor is retained in
 * period n (0 … periods) when some `return` event lies in cohort period + n — before or
 * after the start event within period 0, and possibly after `to`. Groups are
 * (cohort start, groupBy values of the cohort-defining event); per group the cohort size and
 * the number of actors retained in each period are counted. A shard is counted without
 * gathering (retention-stream.ts) when its per-actor state fits the memory budget.
 *
 * Threading: `retentionShard` runs on one thread and owns all its state.
 */
import { ShoalError } from '../../errors.js';
import { BucketIndexer } from '../buckets.js';
import type { MeasureState } from '../measure-state.js';
import type { ScanStats } from '../partial.js';
import type { ShardSnapshot } from '../source.js';
import type { KeyEncoder } from '../group-keys.js';
import { collectActorRows, releaseActorRows, streamActorRows } from './actor-stream.js';
import { GroupTable, keyDecoders } from './group-table.js';
import type { RetentionPartial } from './partial.js';
import type { RetentionPlan } from './plan.js';
import { retentionActorBytes, RetentionStream } from './retention-stream.js';
import { growF64 } from '../row-group.js';

const START = 1;
const RETURN = 2;

/** Streams the shard through a RetentionStream (see retention-stream.ts); null when it cannot (`stats` untouched). */
function streamRetention(shard: ShardSnapshot, plan: RetentionPlan, stats: ScanStats, signal: AbortSignal | undefined): { stream: RetentionStream; encoders: KeyEncoder[] } | null {
  if (shard.actorCount * retentionActorBytes(plan.query.periods, plan.stream.extras.length) > plan.limits.memoryBudgetBytes) return null;
  const stream = new RetentionStream(plan, shard.actorCount, new BucketIndexer(plan.boundaries));
  const encoders = streamActorRows(shard, plan.stream, stats, stream.sink, { signal, budgetBytes: plan.limits.memoryBudgetBytes });
  return encoders === null ? null : { stream, encoders };
}

/** Runs a retention plan over one shard. */
export function retentionShard(shard: ShardSnapshot, plan: RetentionPlan, signal?: AbortSignal): RetentionPartial {
  const stats: ScanStats = { rowsScanned: 0, segmentsScanned: 0, segmentsSkipped: 0 };
  const b = plan.boundaries;
  const streamed = plan.cohorts === 0 ? null : streamRetention(shard, plan, stats, signal);
  const rows = plan.cohorts === 0 || streamed !== null ? null : collectActorRows(shard, plan.stream, stats, plan.limits.memoryBudgetBytes, signal);
  const table = new GroupTable(keyDecoders(b, streamed?.encoders ?? rows?.encoders ?? []), plan.limits.maxGroups);
  const width = plan.query.periods + 2; // cohort size, period 0 … periods
  let counts = new Float64Array(0);
  if (streamed !== null) counts = streamed.stream.finish(table, counts);
  if (rows !== null) {
    const { times, masks, extras, ranges, rangeStart } = rows;
    const indexer = new BucketIndexer(b);
    const first = b[0];
    const last = b[b.length - 1];
    const retained = new Uint8Array(width);
    for (let k = 0; k < rows.actorCount; k++) {
      if ((k & 1023) === 0) signal?.throwIfAborted(); // a shard may hold millions of actors
      const r0 = rangeStart[k];
      const r1 = rangeStart[k + 1];
      let cohortRow = -1;
      for (let r = r0; r < r1 && cohortRow < 0; r++) {
        for (let i = ranges[2 * r], hi = ranges[2 * r + 1]; i < hi; i++) {
          if ((masks[i] & START) !== 0 && times[i] >= plan.entryFromMs && times[i] < plan.entryToMs) {
            cohortRow = i;
            break;
          }
        }
      }
      if (cohortRow < 0) continue;
      const c = indexer.indexOf(times[cohortRow]);
      if (c >= plan.cohorts) throw new ShoalError('INTERNAL', ['a cohort event lies outside the cohort range']);
      retained.fill(0);
      for (let r = r0; r < r1; r++) {
        for (let i = ranges[2 * r], hi = ranges[2 * r + 1]; i < hi; i++) {
          const t = times[i];
          if ((masks[i] & RETURN) === 0 || t < first || t >= last) continue;
          const n = indexer.indexOf(t) - c;
          if (n >= 0 && n <= plan.query.periods) retained[n] = 1;
        }
      }
      table.tuple[0] = c;
      for (let j = 0; j < extras.length; j++) table.tuple[1 + j] = extras[j][cohortRow];
      const g = table.lookup();
      counts = growF64(counts, (g + 1) * width, 0);
      counts[g * width]++;
      for (let n = 0; n + 1 < width; n++) counts[g * width + 1 + n] += retained[n];
    }
  }
  if (rows !== null) releaseActorRows(rows);
  const groups = table.size;
  const states: MeasureState[] = Array.from({ length: width }, (_, j) => {
    const col = new Float64Array(groups);
    for (let g = 0; g < groups; g++) col[g] = counts[g * width + j];
    return { kind: 'count' as const, counts: col };
  });
  return { kind: 'retention', shards: [shard.shard], memoryBytes: table.bytes() + counts.byteLength, main: { groups, keys: table.keys(), states }, stats };
}
