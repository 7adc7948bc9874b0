/**
 * Compaction: merges consecutive segments of one (shard, time partition) into one, size-tiered
 * (see `chooseMerges`). Segments of a partition cover disjoint flush generations, so
 * concatenating them oldest first and sorting stably by (actor, time) keeps arrival order for
 * equal times. A manifest commit per round of up to MERGES_PER_COMMIT merges swaps their inputs
 * for their outputs; the inputs are retired (unlinked, closed once no snapshot reads them).
 *
 * Runs on the table's maintenance chain; the merges themselves run on the flush workers
 * (flush-pool.ts), so ingest keeps the main thread. Each worker holds one merge (at most the
 * segments it merges) in memory at a time; the tiers bound that to about fanIn × the
 * partition's largest segment.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { CorruptDataError } from '../errors.js';
import { fsyncDir, getDiskBudget, renamedBeforeFailure } from './file-io.js';
import { entryOf } from './flush.js';
import { FLUSH_WORKERS, mergeSegments } from './flush-pool.js';
import { writeManifest } from './manifest.js';
import { PARTITION_MS } from './row-order.js';
import { SegmentHandle } from './segment-handle.js';
import { SegmentReader } from './segment-reader.js';
import { SEGMENTS_DIR } from './table-files.js';
import type { Table } from './table.js';

/** Segments by (shard, partition), each list oldest first. */
function groups(table: Table): SegmentHandle[][] {
  const map = new Map<string, SegmentHandle[]>();
  for (const h of table.segments.values()) {
    const key = `${h.entry.shard}:${h.entry.partition}`;
    const list = map.get(key) ?? [];
    list.push(h);
    map.set(key, list);
  }
  return [...map.values()].map((list) => list.sort((a, b) => a.entry.genMin - b.entry.genMin));
}

/** Segments of at most this many rows all count as the smallest size (the lowest level). */
export const LEVEL_BASE_ROWS = 4096;
/**
 * How far below the largest level a segment may be and still merge with it: 0.75 of a level, a
 * factor of fanIn^0.75 in rows (5.6 for 10). A band rather than fixed tiers, so that sizes
 * straddling a tier boundary still merge.
 */
const LEVEL_SPAN = 0.75;

/**
 * Size-tiered choice of what to merge in one (shard, partition), its segments oldest first, in
 * the way of Lucene's LogMergePolicy. A segment's level is log_fanIn of its rows (floored at
 * LEVEL_BASE_ROWS). From the oldest segment not yet placed, the band reaches down LEVEL_SPAN from
 * the largest level left and ends at the newest segment within it; the band's segments, smaller
 * ones between them included, merge fanIn at a time, oldest first, and the rest start the next
 * band. Merged, fanIn segments move up about a level, so every row is rewritten about
 * log_fanIn(partition rows / LEVEL_BASE_ROWS) times in all and a partition keeps a few
 * segments a level. Only consecutive segments merge, so generation ranges never interleave and
 * equal times keep arrival order. `full` merges the whole partition.
 *
 * Fixed tiers (the policy until 2026-12-06) merged only runs of fanIn consecutive segments of one
 * tier: a chunked load whose flushes alternated 16,500 and 2,700 rows a partition (a memory-
 * triggered flush, then the last one) alternated tiers 1 and 0 and never merged, so the
 * billion-event table grew to ~150 segments a partition.
 */
export function chooseMerges(segments: SegmentHandle[], fanIn: number, full: boolean): SegmentHandle[][] {
  if (full) return segments.length >= 2 ? [segments] : [];
  const floor = Math.log(LEVEL_BASE_ROWS) / Math.log(fanIn);
  const levels = segments.map((h) => Math.log(Math.max(h.entry.rowCount, LEVEL_BASE_ROWS)) / Math.log(fanIn));
  const merges: SegmentHandle[][] = [];
  let start = 0;
  while (start < segments.length) {
    let top = levels[start];
    for (let i = start + 1; i < levels.length; i++) top = Math.max(top, levels[i]);
    // At the lowest level every segment left is in the band.
    const bottom = top <= floor ? -Infinity : Math.max(top - LEVEL_SPAN, floor);
    let upto = segments.length - 1;
    while (upto > start && levels[upto] < bottom) upto--;
    for (; start + fanIn <= upto + 1; start += fanIn) merges.push(segments.slice(start, start + fanIn));
    start = upto + 1;
  }
  return merges;
}

/**
 * Merges segments: with `full`, every partition with 2+ segments into one; otherwise the runs
 * `chooseMerges` picks. The merges run on the flush workers, as many at once as there are
 * workers (one at a time under an injected disk budget, so it stays exact); this thread only
 * reserves file numbers and waits. Outputs are written and fsynced, then a manifest commit per
 * MERGES_PER_COMMIT merges swaps their inputs for their outputs. A merge that finds a damaged
 * input leaves its group alone (the damage is recorded, so later calls skip it) and fails its
 * round; rounds committed before stay. Returns how many segments were merged away.
 *
 * Encoding: a full compaction searches every block's best encoding, as the table's final form;
 * the tiered merges, whose output is merged again as the partition grows, keep each column's
 * encoding from block to block as a flush does (choice.ts), since the search cost about a third
 * of a merge's CPU.
 */
export async function compactTable(table: Table, opts: { full: boolean }): Promise<number> {
  const fanIn = Math.max(2, table.options.compactAt);
  const damaged = new Set(table.damaged.map((d) => d.file));
  const merges = groups(table)
    .filter((g) => !g.some((h) => h.reader.damage !== null || damaged.has(h.reader.path)))
    .flatMap((g) => chooseMerges(g, fanIn, opts.full));
  const segmentsDir = join(table.dir, SEGMENTS_DIR);
  if (merges.length > 0) mkdirSync(segmentsDir, { recursive: true });
  let merged = 0;
  for (let at = 0; at < merges.length && !table.closed; at += MERGES_PER_COMMIT) {
    merged += await compactRound(table, merges.slice(at, at + MERGES_PER_COMMIT), segmentsDir, opts.full);
  }
  return merged;
}

/**
 * Merges per manifest commit: a full compaction of a large table (a billion events: ~500
 * partitions, 46,000 segments) commits as it goes, so an interruption keeps the merges done and
 * a round holds only its own inputs.
 */
export const MERGES_PER_COMMIT = 64;

/** Runs `merges` on the flush workers and commits them in one manifest write; returns the inputs merged away. */
async function compactRound(table: Table, merges: SegmentHandle[][], segmentsDir: string, full: boolean): Promise<number> {
  // By merge, so the manifest lists outputs in one order however the lanes interleave.
  const done: { inputs: SegmentHandle[]; outputs: SegmentHandle[] }[] = [];
  const inputs: SegmentHandle[] = [];
  const outputs: SegmentHandle[] = [];
  for (const group of merges) for (const h of group) h.acquire();
  let failure: { err: unknown } | null = null;
  let unsynced: unknown = null;
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < merges.length && failure === null && !table.closed) {
      const k = next++;
      try {
        done[k] = { inputs: merges[k], outputs: await mergeGroup(table, merges[k], segmentsDir, full) };
      } catch (err) {
        failure ??= { err };
      }
    }
  };
  try {
    const parallel = getDiskBudget() === Infinity ? FLUSH_WORKERS : 1;
    await Promise.all(Array.from({ length: Math.min(parallel, merges.length) }, lane));
    for (const d of done) if (d !== undefined) (inputs.push(...d.inputs), outputs.push(...d.outputs));
    if (failure !== null) throw (failure as { err: unknown }).err;
    if (inputs.length === 0) return 0;
    fsyncDir(segmentsDir);
    const gone = new Set(inputs.map((h) => h.entry.file));
    const nextManifest = {
      ...table.manifest,
      segments: [...table.manifest.segments.filter((e) => !gone.has(e.file)), ...outputs.map((h) => h.entry)],
    };
    try {
      writeManifest(table.dir, nextManifest);
    } catch (err) {
      // Renamed but not known durable: the merges are done (readers and a restart see the new
      // manifest), but the inputs' files stay, should a power loss bring the old one back.
      if (!renamedBeforeFailure(err)) throw err;
      unsynced = err;
    }
    table.manifest = nextManifest;
  } catch (err) {
    for (const h of outputs) h.retire();
    throw err;
  } finally {
    for (const group of merges) for (const h of group) h.release();
  }
  for (const h of outputs) table.segments.set(h.entry.file, h);
  for (const h of inputs) {
    table.segments.delete(h.entry.file);
    h.retire(unsynced === null);
  }
  if (unsynced !== null) table.onBackgroundError(unsynced);
  return inputs.length;
}

/**
 * Merges one group (consecutive segments of a shard and partition) on a flush worker into new
 * segment files under file numbers reserved here, with the full encoding search when `full`; a
 * damaged input is recorded on its reader.
 */
async function mergeGroup(table: Table, group: SegmentHandle[], segmentsDir: string, full: boolean): Promise<SegmentHandle[]> {
  const shard = group[0].entry.shard;
  const genMin = group[0].entry.genMin;
  const genMax = Math.max(...group.map((h) => h.entry.genMax));
  const minTime = Math.min(...group.map((h) => h.entry.minTimeMs));
  const maxTime = Math.max(...group.map((h) => h.entry.maxTimeMs));
  const seqCount = Math.floor(maxTime / PARTITION_MS) - Math.floor(minTime / PARTITION_MS) + 1;
  const firstSeq = table.manifest.nextSegment;
  table.manifest.nextSegment += seqCount;
  const inputs = group.map((h) => ({ path: h.reader.path, footer: h.reader.footer, bytes: h.reader.fileBytes }));
  try {
    const written = await mergeSegments(inputs, table.schema, { segmentsDir, shard, genMin, genMax, firstSeq, seqCount }, full);
    return written.map((w) => new SegmentHandle(entryOf(w.file, w.footer, w.bytes), SegmentReader.written(join(segmentsDir, w.file), w.footer, w.bytes)));
  } catch (err) {
    if (err instanceof CorruptDataError) group.find((h) => h.reader.path === err.file)?.reader.recordDamage(err);
    throw err;
  }
}
