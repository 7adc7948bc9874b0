/**
 * Table statistics for `shoal tables` and `GET /v1/tables[/:table]`: row counts, bytes on disk,
 * time range, freshness, dead letters, and per column its type, null and type-error counts.
 * Computed from the manifest's segment entries and the tails, without reading segment data.
 */
import { statSync } from 'node:fs';
import type { ColumnType } from '../types.js';
import type { Damage, Table } from './table.js';
import type { Tail } from './tail.js';
import { actorsPath } from './table-files.js';
import { countOf } from './manifest.js';

export interface ColumnStats {
  name: string;
  type: ColumnType;
  nullCount: number;
  typeErrors: number;
}

export interface TableStats {
  name: string;
  actorColumn: string;
  timeColumn: string;
  rowCount: number;
  actorCount: number;
  bytesOnDisk: number;
  walBytes: number;
  minTimeMs: number | null;
  maxTimeMs: number | null;
  lastIngestMs: number | null;
  deadLetterCount: number;
  segmentCount: number;
  tailRows: number;
  shards: { shard: number; actors: number; segments: number; rows: number; tailRows: number }[];
  columns: ColumnStats[];
  damaged: Damage[];
}

function fileBytes(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

export function tableStats(table: Table): TableStats {
  const tails: Tail[] = [...table.tails, ...table.frozen.flatMap((f) => f.tails)];
  let rowCount = 0;
  let bytes = 0;
  let minTime = Infinity;
  let maxTime = -Infinity;
  const nulls = new Map<string, number>();
  const shards = table.shardIndexes().map((s) => ({ shard: s, actors: table.actors[s].size, segments: 0, rows: 0, tailRows: 0 }));
  for (const h of table.segments.values()) {
    const e = h.entry;
    rowCount += e.rowCount;
    bytes += e.bytes;
    minTime = Math.min(minTime, e.minTimeMs);
    maxTime = Math.max(maxTime, e.maxTimeMs);
    shards[e.shard].segments++;
    shards[e.shard].rows += e.rowCount;
    for (const name of table.schema.keys()) nulls.set(name, (nulls.get(name) ?? 0) + (countOf(e.nulls, name) ?? e.rowCount));
  }
  for (const t of tails) {
    rowCount += t.rowCount;
    shards[t.shard].rows += t.rowCount;
    shards[t.shard].tailRows += t.rowCount;
    for (let i = 0; i < t.rowCount; i++) {
      if (t.times[i] < minTime) minTime = t.times[i];
      if (t.times[i] > maxTime) maxTime = t.times[i];
    }
    for (const name of table.schema.keys()) nulls.set(name, (nulls.get(name) ?? 0) + (t.columns.get(name)?.nullCount ?? t.rowCount));
  }
  const typeErrors = new Map(Object.entries(table.manifest.typeErrors));
  for (const t of tails) for (const [name, n] of t.typeErrors) typeErrors.set(name, (typeErrors.get(name) ?? 0) + n);
  let walBytes = 0;
  for (const w of table.wals) walBytes += w.bytes;
  for (let s = 0; s < table.shardCount; s++) bytes += fileBytes(actorsPath(table.dir, s));
  return {
    name: table.name,
    actorColumn: table.actorColumn,
    timeColumn: table.timeColumn,
    rowCount,
    actorCount: table.actors.reduce((n, a) => n + a.size, 0),
    bytesOnDisk: bytes + walBytes,
    walBytes,
    minTimeMs: rowCount === 0 ? null : minTime,
    maxTimeMs: rowCount === 0 ? null : maxTime,
    lastIngestMs: table.lastIngestMs,
    deadLetterCount: table.deadLetters.count,
    segmentCount: table.segments.size,
    tailRows: table.tailRows(),
    shards,
    columns: [...table.schema].map(([name, type]) => ({ name, type, nullCount: nulls.get(name) ?? 0, typeErrors: typeErrors.get(name) ?? 0 })),
    damaged: [...table.damaged],
  };
}
