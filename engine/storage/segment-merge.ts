/**
 * Merging segments' rows: every row of a list of segments, oldest first, decoded into one row
 * set with the table's column types, strings re-coded into one dictionary per column. Used by
 * compaction's merges, which run on the flush worker threads (flush-worker.ts).
 */
import type { SegmentReader } from './segment-reader.js';
import type { RowSet } from './tail.js';
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
