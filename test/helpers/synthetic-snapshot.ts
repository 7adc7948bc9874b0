/**
 * A large synthetic in-memory snapshot built directly in columns (no event objects), for
 * throughput measurements: `rows` events of `actors` users over `days` days, 16 shards, one
 * segment-like source per shard and day sorted by (actor, time), row groups of 65,536 rows.
 * Columns: `event` (string, 20 values), `country` (string, 30 values), `latency_ms` (number).
 */
import type { ColumnType, ColumnVector, ZoneMap } from '../../engine/types.js';
import type { RowGroupInfo, ScanSource, ShardSnapshot, TableSnapshot } from '../../engine/query/source.js';
import { rng } from './memory-snapshot.js';

const ROW_GROUP = 65_536;
const DAY = 86_400_000;
const EVENTS = Array.from({ length: 20 }, (_, i) => `event_${String(i).padStart(2, '0')}`);
const COUNTRIES = Array.from({ length: 30 }, (_, i) => `C${String(i).padStart(2, '0')}`);

function zone(values: ArrayLike<number>, start: number, end: number, dict?: readonly string[]): ZoneMap {
  let min = Infinity;
  let max = -Infinity;
  for (let i = start; i < end; i++) {
    const v = values[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return dict === undefined ? { min, max, nullCount: 0 } : { min: dict[min], max: dict[max], nullCount: 0 };
}

class ColumnarSource implements ScanSource {
  readonly rowGroups: RowGroupInfo[] = [];
  readonly columns = new Map<string, ColumnType>([['event', 'string'], ['country', 'string'], ['latency_ms', 'number']]);
  readonly minTimeMs: number;
  readonly maxTimeMs: number;
  constructor(readonly id: string, readonly rowCount: number, private readonly actors: Uint32Array, private readonly times: Float64Array,
    private readonly event: Uint32Array, private readonly country: Uint32Array, private readonly latency: Float64Array) {
    for (let start = 0; start < rowCount; start += ROW_GROUP) {
      const end = Math.min(rowCount, start + ROW_GROUP);
      this.rowGroups.push({ rowStart: start, rowCount: end - start, zones: new Map([
        ['$time', zone(times, start, end)], ['event', zone(event, start, end, EVENTS)],
        ['country', zone(country, start, end, COUNTRIES)], ['latency_ms', zone(latency, start, end)],
      ]) });
    }
    const z = zone(times, 0, rowCount);
    this.minTimeMs = z.min as number;
    this.maxTimeMs = z.max as number;
  }
  readColumn(column: string, g: number): ColumnVector | null {
    const { rowStart: s, rowCount: n } = this.rowGroups[g];
    switch (column) {
      case '$time': return { type: 'time', values: this.times.subarray(s, s + n), validity: null };
      case 'event': return { type: 'string', codes: this.event.subarray(s, s + n), dict: EVENTS, validity: null };
      case 'country': return { type: 'string', codes: this.country.subarray(s, s + n), dict: COUNTRIES, validity: null };
      case 'latency_ms': return { type: 'number', values: this.latency.subarray(s, s + n), validity: null };
      default: return null;
    }
  }
  readActorIds(g: number): Uint32Array {
    const { rowStart: s, rowCount: n } = this.rowGroups[g];
    return this.actors.subarray(s, s + n);
  }
}

export function syntheticSnapshot(opts: { rows: number; actors: number; days: number; seed?: number }): TableSnapshot {
  const rand = rng(opts.seed ?? 42);
  const shards = 16;
  const t0 = Date.UTC(2024, 0, 1);
  const perSource = Math.ceil(opts.rows / (shards * opts.days));
  const actorsPerShard = Math.ceil(opts.actors / shards);
  const shardList: ShardSnapshot[] = [];
  for (let s = 0; s < shards; s++) {
    const sources: ScanSource[] = [];
    for (let d = 0; d < opts.days; d++) {
      const n = perSource;
      const actors = new Uint32Array(n);
      const times = new Float64Array(n);
      const event = new Uint32Array(n);
      const country = new Uint32Array(n);
      const latency = new Float64Array(n);
      // Sorted by (actor, time): actors ascending in runs, times ascending within a run.
      for (let i = 0; i < n; i++) {
        actors[i] = Math.floor((i / n) * actorsPerShard);
        times[i] = t0 + d * DAY + ((i * 7919) % n) / n * DAY;
        event[i] = Math.floor(Math.pow(rand(), 2) * EVENTS.length);
        country[i] = (actors[i] * 31 + s) % COUNTRIES.length;
        latency[i] = Math.round(Math.exp(rand() * 6) * 10) / 10;
      }
      for (let i = 1; i < n; i++) if (actors[i] === actors[i - 1] && times[i] < times[i - 1]) times[i] = times[i - 1];
      sources.push(new ColumnarSource(`seg:${s}:${d}`, n, actors, times, event, country, latency));
    }
    shardList.push({ shard: s, actorCount: actorsPerShard, actorValue: (id) => `user_${s}_${id}`, sources });
  }
  return {
    table: 'events', actorColumn: 'user_id', timeColumn: 'time',
    schema: new Map<string, ColumnType>([['event', 'string'], ['country', 'string'], ['latency_ms', 'number']]),
    shards: shardList, release: () => {},
  };
}
