/**
 * Flush: turns frozen tails into segments. Per shard, rows are sorted by (partition, actor,
 * time, arrival) and written as one segment per time partition; then the actor dictionaries
 * are appended, and one manifest commit makes the segments visible and retires the WAL
 * generations they came from. A crash before that commit leaves the WAL as the source of
 * truth (recovery replays it and removes the unnamed segment files).
 *
 * Shard tails of `flushWorkerMinRows` rows or more are sorted, encoded and written by the flush
 * worker threads (flush-pool.ts), up to one shard per worker at a time, so ingest commits keep
 * the main thread; smaller ones run here with the file writes on the I/O thread pool.
 * Every segment file is fsynced before the directory fsync and the manifest commit.
 *
 * Runs on the table's maintenance chain, never concurrently with compaction.
 */
import { mkdirSync, readdirSync, renameSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { EncodingChoices } from '../encodings/choice.js';
import { fsyncDir, getDiskBudget, renamedBeforeFailure } from './file-io.js';
import { countsByName, writeManifest, type SegmentEntry } from './manifest.js';
import { FLUSH_WORKERS, FlushSession, partitionSpan } from './flush-pool.js';
import { PARTITION_MS, sortRows } from './row-order.js';
import type { SegmentFooter } from './segment-format.js';
import { SegmentHandle } from './segment-handle.js';
import { SegmentReader } from './segment-reader.js';
import { encodeSegments, writeSegmentFile } from './segment-writer.js';
import type { RowSet, Tail } from './tail.js';
import { actorsPath, SEGMENTS_DIR, segmentName, segmentPath, WAL_DIR, walPath } from './table-files.js';
import type { FrozenTails, Table } from './table.js';

/**
 * Sticky encoding choices for the small shard tails flushed on this thread (see choice.ts);
 * compaction passes none, so its merges get the full search.
 */
const mainThreadChoices = new EncodingChoices();

/** Segment files being created, written and fsynced at once on the I/O thread pool (4 threads by default). */
const WRITE_PARALLELISM = 4;

/**
 * Writes rows (any order) of one shard as sorted segments, one per time partition, fsynced
 * (the caller fsyncs the directory before its manifest commit); encodings by the full search,
 * or sticky per column with `choices`. Encoding runs here; creating,
 * writing and fsyncing the files runs on the I/O thread pool, several files at once. On failure,
 * every write has settled and the files written are removed before it rejects.
 */
export async function writeSortedSegments(
  table: Table,
  rows: RowSet,
  shard: number,
  genMin: number,
  genMax: number,
  choices?: EncodingChoices,
): Promise<SegmentHandle[]> {
  mkdirSync(join(table.dir, SEGMENTS_DIR), { recursive: true });
  const { order, ranges } = sortRows(rows.actorIds, rows.times);
  const encoded = encodeSegments(rows, order, ranges, { shard, genMin, genMax }, choices);
  const files = encoded.map(({ footer }) => segmentName(table.manifest.nextSegment++, shard, footer.partition));
  const results: PromiseSettledResult<SegmentHandle>[] = new Array(encoded.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < encoded.length) {
      const k = next++;
      const path = segmentPath(table.dir, files[k]);
      const { footer, bytes } = encoded[k];
      results[k] = await writeSegmentFile(path, bytes).then(
        () => ({ status: 'fulfilled', value: new SegmentHandle(entryOf(files[k], footer, bytes.length), SegmentReader.written(path, footer, bytes.length)) }) as const,
        (reason: unknown) => ({ status: 'rejected', reason }) as const,
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(WRITE_PARALLELISM, encoded.length) }, lane));
  const failed = results.find((r) => r.status === 'rejected');
  const handles = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  if (failed !== undefined) {
    for (const h of handles) h.retire();
    throw (failed as PromiseRejectedResult).reason;
  }
  return handles;
}

/** The manifest entry of a segment just written. */
export function entryOf(file: string, footer: SegmentFooter, bytes: number): SegmentEntry {
  const nulls = countsByName();
  for (const c of footer.columns) nulls[c.name] = c.nullCount;
  const { shard, partition, genMin, genMax, rowCount, minTimeMs, maxTimeMs } = footer;
  return { file, shard, partition, genMin, genMax, rowCount, minTimeMs, maxTimeMs, bytes, nulls };
}

/** Suffix of retired WAL files waiting to be unlinked (recovery's WAL listing ignores them). */
const RETIRED_SUFFIX = '.retired';

/** Unlinks of retired WAL files still running, by table directory: a table's close waits for them. */
const unlinking = new Map<string, Set<Promise<void>>>();

/** Unlinks `path` on the I/O thread pool (a failure is harmless: the next sweep retries). */
function unlinkInBackground(tableDir: string, path: string): void {
  let running = unlinking.get(tableDir);
  if (running === undefined) unlinking.set(tableDir, (running = new Set()));
  const done: Promise<void> = unlink(path)
    .catch(() => {})
    .finally(() => {
      running.delete(done);
      if (running.size === 0 && unlinking.get(tableDir) === running) unlinking.delete(tableDir);
    });
  running.add(done);
}

/** Waits for the table's retired WAL files to be unlinked, so a closed table's directory holds still. */
export async function settleRetiredWals(tableDir: string): Promise<void> {
  const running = unlinking.get(tableDir);
  if (running !== undefined) await Promise.all([...running]);
}

/**
 * Removes a WAL file the manifest no longer needs. Unlinking a large file is slow on some file
 * systems (ext4 with discard), so it is renamed out of recovery's sight at once and unlinked on
 * the I/O thread pool; `sweepRetiredWals` removes what a crash left behind.
 */
function retireWal(tableDir: string, path: string): void {
  try {
    renameSync(path, path + RETIRED_SUFFIX);
  } catch {
    return; // a shard with no writes in that generation may have no file
  }
  unlinkInBackground(tableDir, path + RETIRED_SUFFIX);
}

/** Unlinks retired WAL files left by a crash (or a still-running unlink, which then fails harmlessly). */
function sweepRetiredWals(tableDir: string): void {
  let names: string[];
  try {
    names = readdirSync(join(tableDir, WAL_DIR));
  } catch {
    return;
  }
  for (const name of names) if (name.endsWith(RETIRED_SUFFIX)) unlinkInBackground(tableDir, join(tableDir, WAL_DIR, name));
}

/**
 * Sorts and writes one shard's tail on the flush worker (flush-pool.ts); returns handles of the
 * segments it wrote. File numbers are reserved first: at most one per day the tail's times span.
 */
async function flushInWorker(table: Table, session: FlushSession, tail: Tail, frozen: FrozenTails): Promise<SegmentHandle[]> {
  const rows = tail.rowSet();
  const seqCount = Math.min(partitionSpan(rows.times, PARTITION_MS), rows.rowCount);
  const firstSeq = table.manifest.nextSegment;
  table.manifest.nextSegment += seqCount;
  const segmentsDir = join(table.dir, SEGMENTS_DIR);
  mkdirSync(segmentsDir, { recursive: true });
  const written = await session.flushShard(rows, { segmentsDir, shard: tail.shard, genMin: frozen.genMin, genMax: frozen.genMax, firstSeq, seqCount });
  return written.map((w) => new SegmentHandle(entryOf(w.file, w.footer, w.bytes), SegmentReader.written(segmentPath(table.dir, w.file), w.footer, w.bytes)));
}

/**
 * Writes a frozen generation's shard tails as segments: large ones on the flush workers, several
 * at once, small ones here meanwhile. Queued ingest commits run all along. On failure every
 * shard has settled and the segments written are removed before it rejects.
 */
async function writeTails(table: Table, session: FlushSession, frozen: FrozenTails): Promise<SegmentHandle[]> {
  const tails = frozen.tails.filter((t) => t.rowCount > 0);
  // Largest first, so the last shards to finish are small ones and the workers end together.
  const big = tails.filter((t) => t.rowCount >= table.options.flushWorkerMinRows).sort((a, b) => b.rowCount - a.rowCount);
  const perShard: Promise<SegmentHandle[]>[] = [];
  // An injected disk budget is handed to one worker request at a time, so it stays exact.
  const parallel = getDiskBudget() === Infinity ? FLUSH_WORKERS : 1;
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < big.length) {
      const tail = big[next++];
      const run = flushInWorker(table, session, tail, frozen);
      perShard.push(run);
      await run.catch(() => {});
    }
  };
  const lanes = Array.from({ length: Math.min(parallel, big.length) }, lane);
  for (const tail of tails) {
    if (tail.rowCount >= table.options.flushWorkerMinRows) continue;
    const run = writeSortedSegments(table, tail.rowSet(), tail.shard, frozen.genMin, frozen.genMax, mainThreadChoices);
    perShard.push(run);
    await run.catch(() => {});
  }
  await Promise.all(lanes);
  const results = await Promise.allSettled(perShard);
  const handles = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
  const failed = results.find((r) => r.status === 'rejected');
  if (failed !== undefined) {
    for (const h of handles) h.retire();
    throw (failed as PromiseRejectedResult).reason;
  }
  return handles.sort((a, b) => a.entry.shard - b.entry.shard || a.entry.partition - b.entry.partition);
}

/** Flushes everything acknowledged so far into segments. */
export async function flushTable(table: Table): Promise<void> {
  await table.rotate();
  sweepRetiredWals(table.dir);
  // A manifest renamed into place whose directory fsync failed (see commitFlush).
  let notDurable: unknown = null;
  while (table.frozen.length > 0) {
    const frozen = table.frozen[0];
    const handles: SegmentHandle[] = [];
    const actorCounts = table.actors.map((a) => a.size);
    const session = new FlushSession();
    try {
      handles.push(...(await writeTails(table, session, frozen)));
      const actorBytes = await Promise.all(table.actors.map((a, s) => a.persist(actorsPath(table.dir, s), actorCounts[s])));
      fsyncDir(join(table.dir, SEGMENTS_DIR));
      table.idempotency.persist(frozen.genMax);
      notDurable ??= commitFlush(table, frozen, handles, actorCounts, actorBytes);
    } catch (err) {
      // Nothing was committed: drop the new files; the frozen tails stay for the next try.
      for (const h of handles) h.retire();
      throw err;
    } finally {
      session.end();
    }
  }
  if (notDurable !== null) throw notDurable;
  // Maintenance after the commit: a merge that fails (say, for want of the space it needs) leaves
  // the flush done, and is reported like any background work.
  if (table.options.autoCompact) {
    const { compactTable } = await import('./compaction.js');
    await compactTable(table, { full: false }).catch((err) => table.onBackgroundError(err));
  }
}

/**
 * The flush's commit point: one manifest write, then in-memory state and WAL cleanup. Returns
 * the error of a manifest renamed into place whose directory fsync failed when the flushed tails
 * held unlogged rows: no WAL backs them, so the flush must not report them stored.
 */
function commitFlush(table: Table, frozen: FrozenTails, handles: SegmentHandle[], actorCounts: number[], actorBytes: number[]): unknown {
    const typeErrors = countsByName(table.manifest.typeErrors);
    for (const tail of frozen.tails) for (const [name, n] of tail.typeErrors) typeErrors[name] = (typeErrors[name] ?? 0) + n;
    const next = {
      ...table.manifest,
      schema: table.pendingColumns.durable(table.schema, frozen.genMax),
      actorCounts,
      walGeneration: frozen.genMax + 1,
      segments: [...table.manifest.segments, ...handles.map((h) => h.entry)],
      typeErrors,
      lastIngestMs: table.lastIngestMs,
    };
    let unsynced: unknown = null;
    try {
      writeManifest(table.dir, next);
    } catch (err) {
      // Renamed but not known durable: readers (and a restart) see the new manifest, so the flush
      // is done; the WAL files stay for the old one, should a power loss bring it back.
      if (!renamedBeforeFailure(err)) throw err;
      unsynced = err;
    }
    table.manifest = next;
    table.pendingColumns.flushed(frozen.genMax);
    table.actors.forEach((a, s) => a.committed(actorCounts[s], actorBytes[s]));
    for (const h of handles) table.segments.set(h.entry.file, h);
    table.frozen.shift();
    // The rows are in committed segments: the tails' arrays go back to the pool once no snapshot holds them.
    for (const tail of frozen.tails) tail.retire();
    if (unsynced !== null) {
      if (frozen.tails.some((t) => t.unlogged)) return unsynced;
      table.onBackgroundError(unsynced);
      return null;
    }
    for (let g = frozen.genMin; g <= frozen.genMax; g++) {
      for (const s of table.shardIndexes()) retireWal(table.dir, walPath(table.dir, g, s));
    }
    return null;
}
