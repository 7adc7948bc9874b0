/**
 * The shared dataset of the differential suites: generated product events (bench/generator.ts)
 * plus columns the generator lacks (a sparse boolean, a signed number, strings with quotes, `%`,
 * accents and the empty string), loaded twice:
 *
 * - into a real Shoal table in a temp directory, through the real ingest path (NDJSON with
 *   nested `props` and ISO times → parseBuffer → Table.ingest), shuffled, in several ingests
 *   with three flushes, then a last part left in the in-memory tail — so every actor's events
 *   are spread over overlapping segments and the tail;
 * - into DuckDB (in memory) from a flat NDJSON file with explicit column types, time as BIGINT
 *   epoch ms.
 *
 * Column names are the same in both (`props.plan` is a DuckDB column named "props.plan").
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateEvents } from '../../bench/generator.js';
import { Store, type Table } from '../../engine/index.js';
import type { Value } from '../../engine/types.js';
import { parseBuffer } from '../../ingest/index.js';
import { rng, tempDir } from '../storage/helpers.js';

export type ColumnKind = 'string' | 'number' | 'boolean';

/** Every column of the flat events but the actor and the time, with its type. */
export const COLUMNS: Record<string, ColumnKind> = {
  event: 'string', path: 'string', country: 'string', os: 'string', device: 'string', app_version: 'string',
  status: 'number', latency_ms: 'number', session_id: 'string',
  'props.plan': 'string', 'props.referrer': 'string', 'props.method': 'string', 'props.setting': 'string',
  'props.channel': 'string', 'props.results': 'number', 'props.item_id': 'string', 'props.price': 'number',
  'props.items': 'number', 'props.amount': 'number', 'props.currency': 'string',
  flag: 'boolean', score: 'number', tag: 'string',
};

/** One event as both engines see it: actor, time (epoch ms) and flat columns (absent = null). */
export interface FlatEvent {
  user_id: string;
  time: number;
  [column: string]: Value;
}

export interface DatasetOptions {
  events: number;
  users: number;
  seed: number;
  days: number;
  endMs: number;
}

/**
 * 16 days ending 2026-11-05 UTC: Europe/Berlin (Oct 25) and America/New_York (Nov 1) both fall
 * back inside, and the range spans two calendar months and three weeks.
 */
export const DEFAULT_DATASET: DatasetOptions = { events: 200_000, users: 2000, seed: 7, days: 16, endMs: Date.UTC(2026, 10, 5) };

const TAGS = ['alpha', 'beta', '', 'é', 'Zed', 'zeta', 'a%b', "o'k", 'al_pha'];

/**
 * Generates the events (deterministic for the options), shuffled into a random arrival order;
 * an event's index in the result is its arrival order. 3% of events repeat the time of the
 * same actor's previous event, so ties are common.
 */
export function generateDataset(opts: DatasetOptions): FlatEvent[] {
  const r = rng(opts.seed ^ 0x2545f491);
  const out: FlatEvent[] = [];
  for (const g of generateEvents({ events: opts.events, users: opts.users, seed: opts.seed, days: opts.days, endMs: opts.endMs, timeFormat: 'ms' })) {
    const e: FlatEvent = { user_id: g.user_id, time: g.time as number };
    for (const [k, v] of Object.entries(g)) {
      if (k === 'user_id' || k === 'time') continue;
      if (k === 'props') for (const [pk, pv] of Object.entries(v as object)) e[`props.${pk}`] = pv as Value;
      else e[k] = v as Value;
    }
    // equal timestamps within an actor (arrival order then decides): 3% of events
    const prev = out[out.length - 1];
    if (prev !== undefined && prev.user_id === e.user_id && r() < 0.03) e.time = prev.time;
    if (r() < 0.75) e.flag = r() < 0.4;
    if (r() < 0.9) e.score = Math.floor(r() * 801 - 400) / 4;
    if (r() < 0.7) e.tag = TAGS[Math.floor(r() * TAGS.length)];
    out.push(e);
  }
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** The NDJSON line Shoal ingests: `props.*` nested again, time as ISO-8601. */
function shoalLine(e: FlatEvent): string {
  const o: Record<string, unknown> = { user_id: e.user_id, time: new Date(e.time).toISOString() };
  let props: Record<string, unknown> | null = null;
  for (const [k, v] of Object.entries(e)) {
    if (k === 'user_id' || k === 'time') continue;
    if (k.startsWith('props.')) (props ??= {})[k.slice(6)] = v;
    else o[k] = v;
  }
  if (props !== null) o.props = props;
  return JSON.stringify(o);
}

export interface ShoalTable {
  store: Store;
  table: Table;
  cleanup: () => Promise<void>;
}

/**
 * Ingests the events into a fresh table `events` in a temp dir: four parts (several batches
 * each); flush after parts 1, 2 and 3; part 4 stays in the tail.
 */
export async function loadIntoShoal(events: FlatEvent[]): Promise<ShoalTable> {
  const { dir, cleanup } = tempDir('shoal-diff-');
  const store = await Store.open(dir, { table: { flushRows: 1e12, autoCompact: false }, log: () => {} });
  const table = await store.getOrCreate('events');
  const cuts = [0, 0.3, 0.55, 0.85, 1].map((f) => Math.floor(f * events.length));
  for (let p = 0; p < 4; p++) {
    const lines = events.slice(cuts[p], cuts[p + 1]).map(shoalLine).join('\n');
    const batches = await parseBuffer(Buffer.from(lines), { format: 'ndjson', workers: 0, chunkBytes: 1 << 20 });
    const rejected = batches.reduce((n, b) => n + b.rejects.length, 0);
    if (rejected > 0) throw new Error(`dataset: ${rejected} events rejected by the parser`);
    await table.ingest(batches);
    if (p < 3) await table.flush();
  }
  return { store, table, cleanup: async () => { await store.close(); cleanup(); } };
}

export interface DuckDb {
  connection: DuckDBConnection;
  close: () => void;
}

/**
 * Opens an in-memory DuckDB (session time zone UTC) and loads the events as table `events`,
 * with their arrival order in column `seq` (so (time, seq) is Shoal's (time, arrival) order).
 */
export async function loadIntoDuckDb(events: FlatEvent[], threads = 2): Promise<DuckDb> {
  const { dir, cleanup } = tempDir('shoal-diff-duck-');
  const instance = await DuckDBInstance.create(':memory:', { threads: String(threads) });
  const connection = await instance.connect();
  try {
    const file = join(dir, 'events.ndjson');
    writeFileSync(file, events.map((e, i) => JSON.stringify({ ...e, seq: i })).join('\n'));
    const sqlType = { string: 'VARCHAR', number: 'DOUBLE', boolean: 'BOOLEAN' } as const;
    const cols: [string, string][] = [
      ['user_id', 'VARCHAR'], ['time', 'BIGINT'], ['seq', 'BIGINT'],
      ...Object.entries(COLUMNS).map(([n, k]): [string, string] => [n, sqlType[k]]),
    ];
    await connection.run(`SET TimeZone = 'UTC'`);
    await connection.run(`CREATE TABLE events (${cols.map(([n, t]) => `"${n}" ${t}`).join(', ')})`);
    const spec = `{${cols.map(([n, t]) => `'${n}': '${t}'`).join(', ')}}`;
    await connection.run(`INSERT INTO events SELECT * FROM read_json('${file}', format = 'newline_delimited', columns = ${spec})`);
  } finally {
    cleanup();
  }
  return { connection, close: () => { connection.closeSync(); instance.closeSync(); } };
}

/** Runs SQL and returns rows as arrays of plain JS values (BIGINT/HUGEINT as numbers). */
export async function sqlRows(db: DuckDb, sql: string): Promise<Value[][]> {
  const reader = await db.connection.runAndReadAll(sql);
  return (reader.getRowsJS() as unknown[][]).map((row) => row.map(toValue));
}

function toValue(v: unknown): Value {
  if (typeof v === 'bigint') return Number(v);
  if (v === undefined) return null;
  return v as Value;
}
