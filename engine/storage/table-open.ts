/**
 * Opening a table, including crash recovery:
 *  1. read the manifest (the last committed state) and the actor dictionaries it counts;
 *  2. open its segments; a damaged one is reported by name and quarantined (kept in the
 *     manifest, skipped by queries whose range misses it, an error for queries that need it);
 *     remove segment files no manifest names (from a flush or compaction that never committed);
 *  3. replay the WAL generations the manifest still needs: every whole record up to a torn
 *     tail, keeping only batches whose parts are all present (one per shard they touched);
 *     a WAL file damaged before its tail is reported and copied to `quarantine/` first, since
 *     the flush below deletes the WAL generations it replaced;
 *  4. flush what was replayed, so the table continues with a fresh WAL generation.
 *
 * Files in `<table>/quarantine/` are reported as damage at every open until an operator
 * removes them. A table directory with segment or WAL files but no manifest is refused rather
 * than recreated empty (which would delete those files as orphans).
 */
import { copyFileSync, mkdirSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { CorruptDataError, ShoalError } from '../errors.js';
import { ActorDict } from './actor-dict.js';
import { DEAD_LETTER_FILE, DeadLetterLog } from './dead-letter.js';
import { IDEMPOTENCY_FILE, IdempotencyIndex } from './idempotency.js';
import { fsyncDir } from './file-io.js';
import { manifestPath, newManifest, readManifest, writeManifest, type ManifestBody } from './manifest.js';
import { SegmentHandle } from './segment-handle.js';
import { SegmentReader } from './segment-reader.js';
import { Tail } from './tail.js';
import { actorsPath, listSegmentFiles, listWalFiles, SEGMENTS_DIR, segmentPath, WAL_DIR } from './table-files.js';
import { Table, type Damage, type TableOptions } from './table.js';
import { readWal } from './wal.js';
import { decodeShardPart, type ShardPart } from './wal-record.js';

/** Where damaged WAL files are copied before recovery deletes the originals. */
export const QUARANTINE_DIR = 'quarantine';

export interface CreateSpec {
  actorColumn: string;
  timeColumn: string;
  shardCount: number;
}

interface Replay {
  parts: ShardPart[];
  genMin: number;
  genMax: number;
  maxBatchId: number;
  damage: Damage[];
  /** When the newest WAL file holding records was last written: the table's last ingest, at the latest. */
  lastWriteMs: number | null;
}

/** Reads the WAL generations at or after `fromGeneration`; deletes older ones. */
function replayWal(dir: string, fromGeneration: number): Replay {
  const replay: Replay = { parts: [], genMin: Infinity, genMax: -Infinity, maxBatchId: 0, damage: [], lastWriteMs: null };
  const seen = new Map<number, number>();
  for (const wal of listWalFiles(dir)) {
    if (wal.generation < fromGeneration) {
      unlinkSync(wal.path);
      continue;
    }
    const { records, damage, validBytes, fileBytes } = readWal(wal.path);
    if (records.length === 0 && damage === null) {
      // A generation's files as created, never written to: nothing to replay, and counting them
      // would start a new generation (and a new set of such files) at every open.
      unlinkSync(wal.path);
      continue;
    }
    replay.genMin = Math.min(replay.genMin, wal.generation);
    replay.genMax = Math.max(replay.genMax, wal.generation);
    if (records.length > 0) replay.lastWriteMs = Math.max(replay.lastWriteMs ?? -Infinity, statSync(wal.path).mtimeMs);
    // A torn last record is what a crash leaves; anything else is damage worth reporting.
    if (damage !== null && !damage.startsWith('torn')) {
      const kept = quarantineCopy(dir, wal.path);
      replay.damage.push({ file: wal.path, reason: `${damage}; ${fileBytes - validBytes} bytes after it were not replayed${kept}` });
    }
    for (const rec of records) {
      let part: ShardPart;
      try {
        part = decodeShardPart(rec);
      } catch (err) {
        replay.damage.push({ file: wal.path, reason: `undecodable record: ${(err as Error).message}${quarantineCopy(dir, wal.path)}` });
        break;
      }
      replay.parts.push(part);
      seen.set(part.batchId, (seen.get(part.batchId) ?? 0) + 1);
      replay.maxBatchId = Math.max(replay.maxBatchId, part.batchId);
    }
  }
  // A batch is acknowledged only once all its parts are durable: keep complete batches only.
  replay.parts = replay.parts.filter((p) => seen.get(p.batchId) === p.parts);
  return replay;
}

/** Copies a damaged file into quarantine/ for inspection; returns a note for the report. */
function quarantineCopy(dir: string, path: string): string {
  const qdir = join(dir, QUARANTINE_DIR);
  const target = join(qdir, basename(path));
  try {
    mkdirSync(qdir, { recursive: true });
    copyFileSync(path, target);
    fsyncDir(qdir);
    return `; a copy is kept at ${target}`;
  } catch (err) {
    return `; keeping a copy failed: ${(err as Error).message}`;
  }
}

/** Damage reports for files left in quarantine/ by an earlier recovery. */
function quarantinedEarlier(dir: string): Damage[] {
  let names: string[];
  try {
    names = readdirSync(join(dir, QUARANTINE_DIR));
  } catch {
    return [];
  }
  return names.map((n) => ({ file: join(dir, QUARANTINE_DIR, n), reason: 'quarantined by an earlier recovery (see the log of that start); remove it once inspected' }));
}

function openSegments(table: Table): void {
  const named = new Set(table.manifest.segments.map((e) => e.file));
  for (const file of listSegmentFiles(table.dir)) {
    if (!named.has(file)) {
      try {
        unlinkSync(segmentPath(table.dir, file));
      } catch {
        // best effort: an orphan is harmless
      }
    }
  }
  for (const entry of table.manifest.segments) {
    const path = segmentPath(table.dir, entry.file);
    let reader: SegmentReader;
    try {
      reader = SegmentReader.open(path);
    } catch (err) {
      const reason = err instanceof CorruptDataError ? err.detail : err instanceof ShoalError ? err.message : String(err);
      table.damaged.push({ file: path, reason: `${reason}; quarantined: queries that need its ${entry.rowCount} rows fail with CORRUPT_DATA` });
      reader = SegmentReader.quarantined(path, entry, table.schema, reason);
    }
    table.segments.set(entry.file, new SegmentHandle(entry, reader));
  }
}

/**
 * Opens the table in `dir`, creating it when `create` is given and no manifest exists.
 * Throws CorruptDataError naming the manifest or an actors file when those are damaged.
 */
export async function openTable(dir: string, name: string, options: TableOptions, create?: CreateSpec): Promise<Table> {
  let manifest: ManifestBody | null = readManifest(dir);
  if (manifest === null) {
    if (create === undefined) throw new ShoalError('UNKNOWN_TABLE', [name]);
    if (listSegmentFiles(dir).length > 0 || listWalFiles(dir).length > 0) {
      throw new CorruptDataError(manifestPath(dir), 'missing although the table has segment or WAL files; not recreating it');
    }
    mkdirSync(join(dir, SEGMENTS_DIR), { recursive: true });
    mkdirSync(join(dir, WAL_DIR), { recursive: true });
    manifest = newManifest(name, create.actorColumn, create.timeColumn, create.shardCount);
    writeManifest(dir, manifest);
  }
  mkdirSync(join(dir, SEGMENTS_DIR), { recursive: true });
  mkdirSync(join(dir, WAL_DIR), { recursive: true });
  const m = manifest;
  const actors = Array.from({ length: m.shardCount }, (_, s) => ActorDict.load(actorsPath(dir, s), m.actorCounts[s] ?? 0));
  const earlier = quarantinedEarlier(dir);
  const replay = replayWal(dir, m.walGeneration);
  const generation = Math.max(m.walGeneration, replay.genMax + 1);
  const table = new Table({
    name,
    dir,
    options,
    manifest: m,
    actors,
    deadLetters: await DeadLetterLog.open(join(dir, DEAD_LETTER_FILE)),
    idempotency: IdempotencyIndex.load(join(dir, IDEMPOTENCY_FILE)),
    nextBatchId: replay.maxBatchId + 1,
    generation,
  });
  table.damaged.push(...earlier, ...replay.damage);
  openSegments(table);
  if (replay.parts.length > 0) {
    // The manifest's last-ingest time predates the replayed calls (they were never flushed).
    if (replay.lastWriteMs !== null && replay.lastWriteMs > (table.lastIngestMs ?? -Infinity)) table.lastIngestMs = Math.round(replay.lastWriteMs);
    const tails = table.shardIndexes().map((s) => new Tail(s, replay.genMax));
    for (const part of replay.parts) {
      for (const [col, type] of part.columns.map((c) => [c.name, c.type] as const)) {
        if (!table.schema.has(col)) table.schema.set(col, type);
      }
      table.applyPart(tails[part.shard], part);
    }
    table.frozen.push({ genMin: replay.genMin, genMax: replay.genMax, tails });
    const { flushTable } = await import('./flush.js');
    // A failed flush keeps the replayed rows in the tails and the WAL on disk: the table still
    // serves them and the next flush retries. Damage found on the way is reported, not fatal.
    await table.runMaintenance(() => flushTable(table)).catch((err) => {
      if (err instanceof CorruptDataError && !table.damaged.some((d) => d.file === err.file)) table.damaged.push({ file: err.file, reason: err.message });
      table.onBackgroundError(err);
    });
  }
  return table;
}
