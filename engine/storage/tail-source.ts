/**
 * A ScanSource over a fixed prefix of a shard's in-memory tail. Row groups of the tail are
 * ROW_GROUP_ROWS long like a segment's; zone maps of full groups are cached on the tail (those
 * rows never change), the last partial group's are computed per snapshot.
 */
import type { RowGroupInfo, ScanSource } from '../query/source.js';
import type { ColumnType, ColumnVector, ZoneMap } from '../types.js';
import { ROW_GROUP_ROWS } from './segment-format.js';
import type { Tail, TailColumn } from './tail.js';

/** Zone map of one column over rows [start, end) of the tail. */
function columnZone(col: TailColumn, start: number, end: number): ZoneMap {
  let nulls = 0;
  let min = Infinity;
  let max = -Infinity;
  const v = col.values;
  for (let r = start; r < end; r++) {
    if ((col.validity[r >> 3] & (1 << (r & 7))) === 0) {
      nulls++;
      continue;
    }
    if (col.type === 'string') {
      // compare strings below; track codes of the extremes here
      continue;
    }
    if (v[r] < min) min = v[r];
    if (v[r] > max) max = v[r];
  }
  if (nulls === end - start) return { min: null, max: null, nullCount: nulls };
  if (col.type !== 'string') return { min, max, nullCount: nulls };
  let smin: string | null = null;
  let smax: string | null = null;
  const dict = col.dict!;
  for (let r = start; r < end; r++) {
    if ((col.validity[r >> 3] & (1 << (r & 7))) === 0) continue;
    const s = dict[v[r]];
    if (smin === null || s < smin) smin = s;
    if (smax === null || s > smax) smax = s;
  }
  return { min: smin, max: smax, nullCount: nulls };
}

function timeZone(times: Float64Array, start: number, end: number): ZoneMap {
  let min = Infinity;
  let max = -Infinity;
  for (let r = start; r < end; r++) {
    if (times[r] < min) min = times[r];
    if (times[r] > max) max = times[r];
  }
  return { min, max, nullCount: 0 };
}

const zoneCache = new WeakMap<Tail, Map<number, Map<string, ZoneMap>>>();

function groupZones(tail: Tail, group: number, start: number, end: number): Map<string, ZoneMap> {
  const full = end - start === ROW_GROUP_ROWS;
  let cache = zoneCache.get(tail);
  const cached = full ? cache?.get(group) : undefined;
  // A cached full group may lack a column added later; those rows are all null for it.
  if (cached !== undefined && cached.size === tail.columns.size + 1) return cached;
  const zones = new Map<string, ZoneMap>();
  zones.set('$time', timeZone(tail.times, start, end));
  for (const [name, col] of tail.columns) zones.set(name, columnZone(col, start, end));
  if (full) {
    if (cache === undefined) zoneCache.set(tail, (cache = new Map()));
    cache.set(group, zones);
  }
  return zones;
}

export class TailSource implements ScanSource {
  readonly id: string;
  readonly rowCount: number;
  readonly minTimeMs: number;
  readonly maxTimeMs: number;
  readonly rowGroups: readonly RowGroupInfo[];
  readonly columns: ReadonlyMap<string, ColumnType>;
  /** The tail this source views (a query pool mirrors it into its workers by identity). */
  readonly tail: Tail;
  private readonly dicts = new Map<string, readonly string[]>();

  /** @param rowCount the prefix this source views (default: every row appended so far) */
  constructor(tail: Tail, rowCount = tail.rowCount) {
    this.tail = tail;
    this.id = `tail:${tail.shard}:g${tail.generation}`;
    const n = rowCount;
    this.rowCount = n;
    const groups: RowGroupInfo[] = [];
    let min = Infinity;
    let max = -Infinity;
    for (let start = 0, g = 0; start < n; start += ROW_GROUP_ROWS, g++) {
      const end = Math.min(n, start + ROW_GROUP_ROWS);
      const zones = groupZones(tail, g, start, end);
      const tz = zones.get('$time')!;
      if ((tz.min as number) < min) min = tz.min as number;
      if ((tz.max as number) > max) max = tz.max as number;
      groups.push({ rowStart: start, rowCount: end - start, zones });
    }
    this.rowGroups = groups;
    this.minTimeMs = n === 0 ? NaN : min;
    this.maxTimeMs = n === 0 ? NaN : max;
    this.columns = tail.columnTypes();
    for (const [name, col] of tail.columns) {
      // The tail's dictionary keeps growing; freeze what this snapshot can reference.
      if (col.dict !== undefined) this.dicts.set(name, frozenDict(col));
    }
  }

  readColumn(column: string, rowGroup: number): ColumnVector | null {
    const g = this.rowGroups[rowGroup];
    const start = g.rowStart;
    const end = start + g.rowCount;
    if (column === '$time') return { type: 'time', values: this.tail.times.subarray(start, end), validity: null };
    const col = this.tail.columns.get(column);
    if (col === undefined || !this.columns.has(column)) return null;
    const validity = col.nullCount === 0 ? null : col.validity.subarray(start >> 3, (end + 7) >> 3);
    if (col.type === 'string') {
      return { type: 'string', codes: (col.values as Uint32Array).subarray(start, end), dict: this.dicts.get(column)!, validity };
    }
    if (col.type === 'boolean') return { type: 'boolean', values: (col.values as Uint8Array).subarray(start, end), validity };
    return { type: 'number', values: (col.values as Float64Array).subarray(start, end), validity };
  }

  readActorIds(rowGroup: number): Uint32Array {
    const g = this.rowGroups[rowGroup];
    return this.tail.actorIds.subarray(g.rowStart, g.rowStart + g.rowCount);
  }
}

const frozen = new WeakMap<string[], readonly string[]>();

/**
 * A copy of the column's dictionary, reused until the dictionary grows. Keyed by the dictionary,
 * which a generation's tails share, so one snapshot copies it once, not once per shard.
 */
function frozenDict(col: TailColumn): readonly string[] {
  const prev = frozen.get(col.dict!);
  if (prev !== undefined && prev.length === col.dict!.length) return prev;
  const copy = Object.freeze(col.dict!.slice());
  frozen.set(col.dict!, copy);
  return copy;
}
