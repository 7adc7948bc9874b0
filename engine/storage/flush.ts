/**
 * Flush: turns frozen tails into segments. Per shard, rows are sorted by (partition, actor,
 * time, arrival) and written as one segment per time partition; then the actor dictionaries
 * are appended, and one manifest commit makes the segments visible and retires the WAL
 * generations they came from. A crash before that commit leaves the WAL as the source of
 * truth (recovery replays it and removes the unnamed segment files).
 *
 * Runs on the table's maintenance chain, never concurrently with compaction.
 */
import { mkdirSync, readdirSync, renameSync, unlink } from 'node:fs';
import { join } from 'node:path';
import { fsyncDir } from './file-io.js';
import { writeManifest, type SegmentEntry } from './manifest.js';
import { sortRows } from './row-order.js';
import { SegmentHandle } from './segment-handle.js';
import { SegmentReader } from './segment-reader.js';
import { syncFiles, writeSegment, type SegmentPlacement } from './segment-writer.js';
import type { RowSet } from './tail.js';
import { actorsPath, SEGMENTS_DIR, segmentName, segmentPath, WAL_DIR, walPath } from './table-files.js';
import type { FrozenTails, Table } from './table.js';

/**
 * Writes rows (any order) of one shard as sorted segments, one per time partition. The files
 * are not yet fsynced: the caller runs `syncFiles` on them before its manifest commit.
 */
export function writeSortedSegments(table: Table, rows: RowSet, shard: number, genMin: number, genMax: number): SegmentHandle[] {
  mkdirSync(join(table.dir, SEGMENTS_DIR), { recursive: true });
  const { order, ranges } = sortRows(rows.actorIds, rows.times);
  const handles: SegmentHandle[] = [];
  for (const range of ranges) {
    const file = segmentName(table.manifest.nextSegment++, shard, range.partition);
    const path = segmentPath(table.dir, file);
    const placement: SegmentPlacement = { shard, partition: range.partition, genMin, genMax };
    const footer = writeSegment(path, rows, order.subarray(range.start, range.end), placement, false);
    const reader = SegmentReader.open(path);
    const nulls: Record<string, number> = {};
    for (const c of footer.columns) nulls[c.name] = c.nullCount;
    const entry: SegmentEntry = {
      file,
      shard,
      partition: range.partition,
      genMin,
      genMax,
      rowCount: footer.rowCount,
      minTimeMs: footer.minTimeMs,
      maxTimeMs: footer.maxTimeMs,
      bytes: reader.fileBytes,
      nulls,
    };
    handles.push(new SegmentHandle(entry, reader));
  }
  return handles;
}

/** Suffix of retired WAL files waiting to be unlinked (recovery's WAL listing ignores them). */
const RETIRED_SUFFIX = '.retired';

/**
 * Removes a WAL file the manifest no longer needs. Unlinking a large file is slow on some file
 * systems (ext4 with discard), so it is renamed out of recovery's sight at once and unlinked on
 * the I/O thread pool; `sweepRetiredWals` removes what a crash left behind.
 */
function retireWal(path: string): void {
  try {
    renameSync(path, path + RETIRED_SUFFIX);
  } catch {
    return; // a shard with no writes in that generation may have no file
  }
  unlink(path + RETIRED_SUFFIX, () => {});
}

/** Unlinks retired WAL files left by a crash (or a still-running unlink, which then fails harmlessly). */
function sweepRetiredWals(tableDir: string): void {
  let names: string[];
  try {
    names = readdirSync(join(tableDir, WAL_DIR));
  } catch {
    return;
  }
  for (const name of names) if (name.endsWith(RETIRED_SUFFIX)) unlink(join(tableDir, WAL_DIR, name), () => {});
}

/** Flushes everything acknowledged so far into segments. */
export async function flushTable(table: Table): Promise<void> {
  await table.rotate();
  sweepRetiredWals(table.dir);
  while (table.frozen.length > 0) {
    const frozen = table.frozen[0];
    const handles: SegmentHandle[] = [];
    const actorCounts = table.actors.map((a) => a.size);
    try {
      for (const tail of frozen.tails) {
        if (tail.rowCount === 0) continue;
        handles.push(...writeSortedSegments(table, tail.rowSet(), tail.shard, frozen.genMin, frozen.genMax));
        // Let queued ingest commits run between shards.
        await new Promise((resolve) => setImmediate(resolve));
      }
      const [actorBytes] = await Promise.all([
        Promise.all(table.actors.map((a, s) => a.persist(actorsPath(table.dir, s), actorCounts[s]))),
        syncFiles(handles.map((h) => h.reader.path)),
      ]);
      fsyncDir(join(table.dir, SEGMENTS_DIR));
      table.idempotency.persist(frozen.genMax);
      commitFlush(table, frozen, handles, actorCounts, actorBytes);
    } catch (err) {
      // Nothing was committed: drop the new files; the frozen tails stay for the next try.
      for (const h of handles) h.retire();
      throw err;
    }
  }
  if (table.options.autoCompact) {
    const { compactTable } = await import('./compaction.js');
    await compactTable(table, { full: false });
  }
}

/** The flush's commit point: one manifest write, then in-memory state and WAL cleanup. */
function commitFlush(table: Table, frozen: FrozenTails, handles: SegmentHandle[], actorCounts: number[], actorBytes: number[]): void {
    const typeErrors = { ...table.manifest.typeErrors };
    for (const tail of frozen.tails) for (const [name, n] of tail.typeErrors) typeErrors[name] = (typeErrors[name] ?? 0) + n;
    const next = {
      ...table.manifest,
      schema: [...table.schema],
      actorCounts,
      walGeneration: frozen.genMax + 1,
      segments: [...table.manifest.segments, ...handles.map((h) => h.entry)],
      typeErrors,
      lastIngestMs: table.lastIngestMs,
    };
    writeManifest(table.dir, next);
    table.manifest = next;
    table.actors.forEach((a, s) => a.committed(actorCounts[s], actorBytes[s]));
    for (const h of handles) table.segments.set(h.entry.file, h);
    table.frozen.shift();
    for (let g = frozen.genMin; g <= frozen.genMax; g++) {
      for (const s of table.shardIndexes()) retireWal(walPath(table.dir, g, s));
    }
}
