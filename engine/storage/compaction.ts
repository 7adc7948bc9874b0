/**
 * Compaction: merges consecutive segments of one (shard, time partition) into one, size-tiered
 * (see `chooseMerges`). Segments of a partition cover disjoint flush generations, so
 * concatenating them oldest first and sorting stably by (actor, time) keeps arrival order for
 * equal times. One manifest commit per compaction round swaps all inputs for their outputs; the
 * inputs are retired (unlinked, closed once no snapshot reads them).
 *
 * Runs on the table's maintenance chain. Holds one merge (at most the segments it merges) in
 * memory at a time; the tiers bound that to about fanIn × the partition's largest segment.
 */
import { fsyncDir } from './file-io.js';
import { writeManifest } from './manifest.js';
import type { SegmentHandle } from './segment-handle.js';
import type { SegmentReader } from './segment-reader.js';
import { writeSortedSegments } from './flush.js';
import { join } from 'node:path';
import type { RowSet } from './tail.js';
import { SEGMENTS_DIR } from './table-files.js';
import type { Table } from './table.js';
import { setValid, type StoredType, type TypedColumn } from './typed-column.js';

interface MergeColumn {
  col: TypedColumn;
  index?: Map<string, number>;
  hasNull: boolean;
}

/** Decodes every row of the readers, oldest first, into one row set. */
export function concatSegments(readers: SegmentReader[], schema: Map<string, StoredType>): RowSet {
  let rowCount = 0;
  for (const r of readers) rowCount += r.rowCount;
  const actorIds = new Uint32Array(rowCount);
  const times = new Float64Array(rowCount);
  const merged = new Map<string, MergeColumn>();
  for (const r of readers) {
    for (const [name, type] of r.columns) {
      if (merged.has(name)) continue;
      const stored = schema.get(name) ?? (type as StoredType);
      const values = stored === 'number' ? new Float64Array(rowCount) : stored === 'boolean' ? new Uint8Array(rowCount) : new Uint32Array(rowCount);
      const col: TypedColumn = { name, type: stored, values, validity: new Uint8Array((rowCount + 7) >> 3) };
      const m: MergeColumn = { col, hasNull: false };
      if (stored === 'string') {
        col.dict = [];
        m.index = new Map();
      }
      merged.set(name, m);
    }
  }
  let base = 0;
  for (const r of readers) {
    for (let g = 0; g < r.rowGroups.length; g++) {
      const n = r.rowGroups[g].rowCount;
      actorIds.set(r.readActorIds(g), base);
      times.set((r.readColumn('$time', g) as { values: Float64Array }).values, base);
      for (const [name, m] of merged) copyGroup(m, r, name, g, base, n);
      base += n;
    }
  }
  const columns = [...merged.values()].map((m) => ({ ...m.col, validity: m.hasNull ? m.col.validity : null }));
  return { rowCount, actorIds, times, columns };
}

function copyGroup(m: MergeColumn, r: SegmentReader, name: string, g: number, base: number, n: number): void {
  const vec = r.readColumn(name, g);
  const out = m.col;
  if (vec === null) {
    m.hasNull = true;
    return;
  }
  const validity = vec.validity;
  let remap: Uint32Array | null = null;
  if (vec.type === 'string') {
    remap = new Uint32Array(vec.dict.length);
    for (let k = 0; k < vec.dict.length; k++) {
      const s = vec.dict[k];
      let code = m.index!.get(s);
      if (code === undefined) {
        code = out.dict!.length;
        out.dict!.push(s);
        m.index!.set(s, code);
      }
      remap[k] = code;
    }
  }
  const src = vec.type === 'string' ? vec.codes : vec.values;
  for (let i = 0; i < n; i++) {
    if (validity !== null && (validity[i >> 3] & (1 << (i & 7))) === 0) {
      m.hasNull = true;
      continue;
    }
    out.values[base + i] = remap !== null ? remap[src[i]] : src[i];
    setValid(out.validity!, base + i);
  }
}

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

/** Rows of the smallest tier; a segment's tier is log_compactAt(rows / TIER_BASE_ROWS). */
const TIER_BASE_ROWS = 4096;

function tierOf(rowCount: number, fanIn: number): number {
  return rowCount <= TIER_BASE_ROWS ? 0 : Math.floor(Math.log(rowCount / TIER_BASE_ROWS) / Math.log(fanIn));
}

/**
 * Size-tiered choice of what to merge in one (shard, partition), oldest first: a run of at
 * least `fanIn` consecutive segments of one tier (merged, they move up a tier), so every row is
 * rewritten about log_fanIn(partition rows / TIER_BASE_ROWS) times in all rather than at every
 * merge. Only consecutive segments merge, so generation ranges never interleave and equal times
 * keep arrival order. `full` merges the whole partition.
 */
export function chooseMerges(segments: SegmentHandle[], fanIn: number, full: boolean): SegmentHandle[][] {
  if (full) return segments.length >= 2 ? [segments] : [];
  const merges: SegmentHandle[][] = [];
  let run: SegmentHandle[] = [];
  let runTier = -1;
  for (const h of segments) {
    const tier = tierOf(h.entry.rowCount, fanIn);
    if (tier !== runTier) {
      if (run.length >= fanIn) merges.push(run);
      run = [];
      runTier = tier;
    }
    run.push(h);
  }
  if (run.length >= fanIn) merges.push(run);
  return merges;
}

/**
 * Merges segments: with `full`, every partition with 2+ segments into one; otherwise the runs
 * `chooseMerges` picks. Outputs are written and fsynced, then one manifest commit swaps every
 * merged input for its output. Returns how many segments were merged away.
 */
export async function compactTable(table: Table, opts: { full: boolean }): Promise<number> {
  const fanIn = Math.max(2, table.options.compactAt);
  // A partition holding a damaged segment stays as it is: merging would have to read it.
  const merges = groups(table)
    .filter((g) => !g.some((h) => h.reader.damage !== null))
    .flatMap((g) => chooseMerges(g, fanIn, opts.full));
  if (merges.length === 0) return 0;
  const inputs: SegmentHandle[] = [];
  const outputs: SegmentHandle[] = [];
  for (const group of merges) for (const h of group) h.acquire();
  try {
    for (const group of merges) {
      if (table.closed) break;
      const rows = concatSegments(group.map((h) => h.reader), table.schema);
      for (const h of group) h.reader.dropCaches(); // the round holds every input until its commit
      const genMin = group[0].entry.genMin;
      const genMax = Math.max(...group.map((h) => h.entry.genMax));
      outputs.push(...(await writeSortedSegments(table, rows, group[0].entry.shard, genMin, genMax)));
      inputs.push(...group);
      // Let queued ingest commits run between partitions.
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (inputs.length === 0) return 0;
    fsyncDir(join(table.dir, SEGMENTS_DIR));
    const gone = new Set(inputs.map((h) => h.entry.file));
    const next = {
      ...table.manifest,
      segments: [...table.manifest.segments.filter((e) => !gone.has(e.file)), ...outputs.map((h) => h.entry)],
    };
    writeManifest(table.dir, next);
    table.manifest = next;
  } catch (err) {
    for (const h of outputs) h.retire();
    throw err;
  } finally {
    for (const group of merges) for (const h of group) h.release();
  }
  for (const h of outputs) table.segments.set(h.entry.file, h);
  for (const h of inputs) {
    table.segments.delete(h.entry.file);
    h.retire();
  }
  return inputs.length;
}
