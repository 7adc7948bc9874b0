/**
 * chDB (embedded ClickHouse) as a benchmark peer: a persistent `Session` directory holding a
 * MergeTree table ORDER BY (user_id, time), loaded with
 * `INSERT INTO events SELECT ... FROM file('/abs/path.ndjson', 'JSONEachRow', structure)` (the
 * multithreaded native parser reads the file directly), then `OPTIMIZE TABLE ... FINAL` so sizes
 * are measured after merges.
 *
 * chDB binds one data directory per process: open one `ChdbPeer` per process (the ingest
 * comparison runs each peer in its own child process).
 */
import { drainPending, Session } from 'chdb';
import { resolve } from 'node:path';
import { detectTimeFormat, directoryBytes, LOW_CARDINALITY, PROPS_FIELDS, sqlString, type LoadResult, type QueryResult, type TimeFormat } from './common.js';

const PROPS_TYPE = `Tuple(${PROPS_FIELDS.map(
  ([n, k]) => `${n} ${k === 'string' ? 'LowCardinality(Nullable(String))' : k === 'int' ? 'Nullable(Int64)' : 'Nullable(Float64)'}`,
).join(', ')})`;

/** Column definitions; status, latency and session id are absent on some events, hence Nullable. */
function columns(time: TimeFormat | 'table'): [name: string, type: string][] {
  return [
    ['user_id', 'String'],
    ['time', time === 'ms' ? 'Int64' : "DateTime64(3, 'UTC')"],
    ...LOW_CARDINALITY.map((c): [string, string] => [c, 'LowCardinality(String)']),
    ['status', 'Nullable(UInt16)'],
    ['latency_ms', 'Nullable(Float64)'],
    ['session_id', 'Nullable(String)'],
    ['props', PROPS_TYPE],
  ];
}

export class ChdbPeer {
  private constructor(
    readonly dir: string,
    private readonly session: Session,
  ) {}

  /** Opens (or creates) the session directory `dir`. */
  static open(dir: string): ChdbPeer {
    const session = new Session(resolve(dir));
    session.query('SET output_format_json_quote_64bit_integers = 0');
    return new ChdbPeer(resolve(dir), session);
  }

  /**
   * Appends the NDJSON file to `table` (created when missing), without merging: the scale
   * benchmark loads its subset chunk by chunk this way, then calls `optimize`. Returns the
   * seconds of the INSERT.
   */
  async appendNdjson(file: string, table = 'events'): Promise<number> {
    const time = detectTimeFormat(file);
    this.session.query(
      `CREATE TABLE IF NOT EXISTS ${table} (${columns('table').map(([n, t]) => `\`${n}\` ${t}`).join(', ')}) ENGINE = MergeTree ORDER BY (user_id, time)`,
    );
    const structure = columns(time).map(([n, t]) => `\`${n}\` ${t}`).join(', ');
    const select = columns(time)
      .map(([n]) => (n === 'time' && time === 'ms' ? "fromUnixTimestamp64Milli(`time`, 'UTC') AS `time`" : `\`${n}\``))
      .join(', ');
    const started = performance.now();
    await this.session.queryAsync(
      `INSERT INTO ${table} SELECT ${select} FROM file(${sqlString(resolve(file))}, 'JSONEachRow', ${sqlString(structure)}) ` +
        `SETTINGS date_time_input_format = 'best_effort'`,
    );
    return (performance.now() - started) / 1000;
  }

  /** Creates `table` (replacing it), loads the NDJSON file, merges to one part, and measures. */
  async loadNdjson(file: string, table = 'events'): Promise<LoadResult> {
    this.session.query(`DROP TABLE IF EXISTS ${table} SYNC`);
    const seconds = await this.appendNdjson(file, table);
    return this.optimize(table, seconds);
  }

  /**
   * Merges `table` to one part (`OPTIMIZE TABLE … FINAL`) and measures it; `loadSeconds` is the
   * time of the inserts before, reported as the load's `seconds`.
   */
  async optimize(table = 'events', loadSeconds = 0): Promise<LoadResult> {
    const loaded = performance.now();
    const partsBefore = await this.activeParts(table);
    await this.session.queryAsync(`OPTIMIZE TABLE ${table} FINAL`);
    const finished = performance.now();
    const parts = await this.activeParts(table);
    const count = await this.query(`SELECT count() AS n FROM ${table}`);
    const threads = await this.query(`SELECT getSetting('max_threads') AS t, version() AS v`);
    return {
      engine: 'chdb',
      events: Number(count.rows[0].n),
      seconds: loadSeconds,
      finishSeconds: (finished - loaded) / 1000,
      bytesOnDisk: parts.bytesOnDisk,
      details: {
        partsAfterInsert: partsBefore.parts,
        parts: parts.parts,
        compressedBytes: parts.compressed,
        uncompressedBytes: parts.uncompressed,
        activePartFilesBytes: parts.paths.reduce((sum, p) => sum + directoryBytes(p), 0),
        sessionDirBytes: directoryBytes(this.dir),
        maxThreads: String(threads.rows[0].t),
        version: String(threads.rows[0].v),
      },
    };
  }

  private async activeParts(table: string): Promise<{ parts: number; bytesOnDisk: number; compressed: number; uncompressed: number; paths: string[] }> {
    const r = await this.query(
      `SELECT count() AS parts, sum(bytes_on_disk) AS b, sum(data_compressed_bytes) AS c, sum(data_uncompressed_bytes) AS u, groupArray(path) AS paths ` +
        `FROM system.parts WHERE active AND database = currentDatabase() AND table = ${sqlString(table)}`,
    );
    const row = r.rows[0];
    return { parts: Number(row.parts), bytesOnDisk: Number(row.b), compressed: Number(row.c), uncompressed: Number(row.u), paths: row.paths as string[] };
  }

  /** Runs one SQL statement; rows come back through JSONEachRow (64-bit integers as numbers). */
  async query(sql: string): Promise<QueryResult> {
    const started = performance.now();
    const result = await this.session.queryAsync(sql, { format: 'JSONEachRow' });
    const text = result.text();
    const rows: Record<string, unknown>[] = [];
    for (const line of text.split('\n')) if (line.length > 0) rows.push(JSON.parse(line) as Record<string, unknown>);
    return { rows, ms: performance.now() - started };
  }

  async close(): Promise<void> {
    this.session.close();
    await drainPending();
  }
}

/** Loads `file` into a fresh MergeTree table in the session directory `dir`. */
export async function loadIntoChdb(file: string, dir: string): Promise<LoadResult> {
  const peer = ChdbPeer.open(dir);
  try {
    return await peer.loadNdjson(file);
  } finally {
    await peer.close();
  }
}
