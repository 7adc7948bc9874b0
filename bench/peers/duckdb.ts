/**
 * DuckDB as a benchmark peer: one persistent database file, an `events` table with explicit
 * column types (time as TIMESTAMP, props as a STRUCT so `props.plan` reads the same as in chDB),
 * loaded with `read_json`, then CHECKPOINTed so the file holds everything before it is measured.
 *
 * One `DuckDbPeer` owns one database file; queries run on one connection, one at a time.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { resolve } from 'node:path';
import { detectTimeFormat, fileBytes, LOW_CARDINALITY, PROPS_FIELDS, sqlString, type LoadResult, type QueryResult, type TimeFormat } from './common.js';

const PROPS_TYPE = `STRUCT(${PROPS_FIELDS.map(([n, k]) => `${n} ${k === 'string' ? 'VARCHAR' : k === 'int' ? 'BIGINT' : 'DOUBLE'}`).join(', ')})`;

/** Table columns and types; `time` is read as VARCHAR or BIGINT and converted in the SELECT. */
function columns(time: TimeFormat): [name: string, tableType: string, readType: string][] {
  return [
    ['user_id', 'VARCHAR', 'VARCHAR'],
    ['time', 'TIMESTAMP', time === 'iso' ? 'TIMESTAMP' : 'BIGINT'],
    ...LOW_CARDINALITY.map((c): [string, string, string] => [c, 'VARCHAR', 'VARCHAR']),
    ['status', 'USMALLINT', 'USMALLINT'],
    ['latency_ms', 'DOUBLE', 'DOUBLE'],
    ['session_id', 'VARCHAR', 'VARCHAR'],
    ['props', PROPS_TYPE, PROPS_TYPE],
  ];
}

export class DuckDbPeer {
  private constructor(
    readonly path: string,
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  /** Opens (or creates) the database file at `path`; `threads` defaults to DuckDB's (all cores). */
  static async open(path: string, opts: { threads?: number } = {}): Promise<DuckDbPeer> {
    const options: Record<string, string> = {};
    if (opts.threads !== undefined) options.threads = String(opts.threads);
    // DuckDB's default limit is 80% of RAM: loading 100M JSON events then reached it and starved
    // the rest of the machine; a bounded limit makes the sort spill to disk instead.
    options.memory_limit = process.env.SHOAL_BENCH_DUCKDB_MEMORY ?? '8GB';
    const instance = await DuckDBInstance.create(resolve(path), options);
    return new DuckDbPeer(resolve(path), instance, await instance.connect());
  }

  /**
   * Appends the NDJSON file to `table` (created when missing) in one INSERT, without a
   * checkpoint: the scale benchmark loads its subset chunk by chunk this way. Returns the seconds
   * of the INSERT.
   */
  async appendNdjson(file: string, table = 'events'): Promise<number> {
    const cols = columns(detectTimeFormat(file));
    await this.connection.run(`CREATE TABLE IF NOT EXISTS ${table} (${cols.map(([n, t]) => `"${n}" ${t}`).join(', ')})`);
    const readColumns = `{${cols.map(([n, , r]) => `${n}: '${r}'`).join(', ')}}`;
    const select = cols.map(([n, , r]) => (n === 'time' && r === 'BIGINT' ? 'epoch_ms("time") AS "time"' : `"${n}"`)).join(', ');
    const started = performance.now();
    await this.connection.run(
      `INSERT INTO ${table} SELECT ${select} FROM read_json(${sqlString(resolve(file))}, format = 'newline_delimited', columns = ${readColumns})`,
    );
    return (performance.now() - started) / 1000;
  }

  /** Creates `table` (replacing it) and loads the NDJSON file into it, then checkpoints. */
  async loadNdjson(file: string, table = 'events'): Promise<LoadResult> {
    await this.connection.run(`DROP TABLE IF EXISTS ${table}`);
    const started = performance.now();
    await this.appendNdjson(file, table);
    const loaded = performance.now();
    await this.connection.run('CHECKPOINT');
    const finished = performance.now();
    const count = await this.query(`SELECT count(*)::BIGINT AS n FROM ${table}`);
    const size = await this.query(`SELECT database_size, block_size, used_blocks FROM pragma_database_size() WHERE database_name = current_database()`);
    const threads = await this.query(`SELECT current_setting('threads') AS threads`);
    return {
      engine: 'duckdb',
      events: Number(count.rows[0].n),
      seconds: (loaded - started) / 1000,
      finishSeconds: (finished - loaded) / 1000,
      bytesOnDisk: fileBytes(this.path) + fileBytes(`${this.path}.wal`),
      details: {
        fileBytes: fileBytes(this.path),
        walBytes: fileBytes(`${this.path}.wal`),
        usedBlocks: Number(size.rows[0]?.used_blocks ?? 0),
        blockSize: Number(size.rows[0]?.block_size ?? 0),
        threads: String(threads.rows[0].threads),
      },
    };
  }

  /**
   * Rewrites `table` sorted by `orderBy` (e.g. "user_id, time"), so zone maps prune like a
   * clustered store, then checkpoints. Returns the seconds taken.
   */
  async sortTable(orderBy: string, table = 'events'): Promise<number> {
    const started = performance.now();
    await this.connection.run(`CREATE OR REPLACE TABLE ${table} AS SELECT * FROM ${table} ORDER BY ${orderBy}`);
    await this.connection.run('CHECKPOINT');
    return (performance.now() - started) / 1000;
  }

  /** Runs one SQL statement; rows are converted to plain JS values (BIGINT as bigint). */
  async query(sql: string): Promise<QueryResult> {
    const started = performance.now();
    const reader = await this.connection.runAndReadAll(sql);
    const rows = reader.getRowObjectsJS() as Record<string, unknown>[];
    return { rows, ms: performance.now() - started };
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}

/** Loads `file` into a fresh table of the database at `dbPath`; closes it before measuring size. */
export async function loadIntoDuckDb(file: string, dbPath: string, opts: { threads?: number } = {}): Promise<LoadResult> {
  const peer = await DuckDbPeer.open(dbPath, opts);
  let result: LoadResult;
  try {
    result = await peer.loadNdjson(file);
  } finally {
    peer.close();
  }
  result.bytesOnDisk = fileBytes(peer.path) + fileBytes(`${peer.path}.wal`);
  result.details.fileBytes = fileBytes(peer.path);
  result.details.walBytes = fileBytes(`${peer.path}.wal`);
  return result;
}
