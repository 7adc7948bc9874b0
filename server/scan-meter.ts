/**
 * Counts the rows a query really scans, as it scans them: a metered snapshot reports a row
 * group's rows the first time any of its columns is read. A cancelled or failed query has
 * counted exactly the row groups it decoded, which makes "the scan stopped" observable in
 * `shoal_query_rows_scanned_total` without waiting for the query's final stats.
 *
 * Threading: the metered snapshot is read on the thread that scans it (in-process execution);
 * a worker pool reports its own progress instead.
 */
import type { ScanSource, ShardSnapshot, TableSnapshot } from '../engine/index.js';

/** Wraps a source so that the first read of each row group reports its row count. */
function meterSource(source: ScanSource, onRows: (rows: number) => void): ScanSource {
  const seen = new Uint8Array(source.rowGroups.length);
  const touch = (g: number): void => {
    if (seen[g] === 0) {
      seen[g] = 1;
      onRows(source.rowGroups[g]?.rowCount ?? 0);
    }
  };
  return {
    id: source.id,
    rowCount: source.rowCount,
    minTimeMs: source.minTimeMs,
    maxTimeMs: source.maxTimeMs,
    rowGroups: source.rowGroups,
    columns: source.columns,
    readColumn(column, rowGroup) {
      touch(rowGroup);
      return source.readColumn(column, rowGroup);
    },
    readActorIds(rowGroup) {
      touch(rowGroup);
      return source.readActorIds(rowGroup);
    },
  };
}

function meterShard(shard: ShardSnapshot, onRows: (rows: number) => void): ShardSnapshot {
  return {
    shard: shard.shard,
    actorCount: shard.actorCount,
    actorValue: (id) => shard.actorValue(id),
    sources: shard.sources.map((s) => meterSource(s, onRows)),
  };
}

/** The same snapshot, reporting rows to `onRows` as row groups are first read. */
export function meterSnapshot(snapshot: TableSnapshot, onRows: (rows: number) => void): TableSnapshot {
  return {
    table: snapshot.table,
    actorColumn: snapshot.actorColumn,
    timeColumn: snapshot.timeColumn,
    schema: snapshot.schema,
    shards: snapshot.shards.map((s) => meterShard(s, onRows)),
    release: () => snapshot.release(),
  };
}
