/**
 * Shoal as a query contestant, through the engine's public API only: `Store.open`, a table
 * snapshot per query, and an executor. The executor is the worker pool of engine/query/pool/ when
 * that module exists and exports a usable entry point, else `runQuery` on the calling thread;
 * `executor` names the one measured, so results say which. With the pool, opening starts the
 * workers and waits for them through a probe query that matches no row (it reads only the
 * dictionaries of app_version, which no suite query uses), so a cold query measures reading
 * its data, not worker start-up.
 *
 * One `ShoalQuerySession` owns the store (and its directory lock) for its process.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Store } from '../../engine/index.js';
import { runQuery } from '../../engine/query/index.js';
import type { TableSnapshot } from '../../engine/index.js';

/** What a Shoal query answers: columns and rows as PRODUCT.md's result object. */
export interface ShoalAnswer {
  columns: { name: string; type: string }[];
  rows: unknown[][];
  stats?: Record<string, unknown>;
}

/** The probe filters on a column no suite query reads, for a value it never has: it reads only that column's dictionaries. */
const PROBE_COLUMN = 'app_version';
const PROBE_VALUE = 'shoal-bench-probe';

type Executor = (snapshot: TableSnapshot, json: unknown) => Promise<ShoalAnswer>;

interface PoolLike {
  warm?: () => void;
  run?: (snapshot: TableSnapshot, json: unknown) => Promise<ShoalAnswer>;
  query?: (snapshot: TableSnapshot, json: unknown) => Promise<ShoalAnswer>;
  close?: () => Promise<void> | void;
  destroy?: () => Promise<void> | void;
}

/**
 * Loads the worker-pool executor if engine/query/pool/ exports one: a `createQueryPool` /
 * `createPool` factory or a `QueryPool` class with `create`/`new`, whose instances have
 * `run(snapshot, json)` or `query(snapshot, json)`. Returns null when there is none.
 */
async function loadPool(): Promise<{ name: string; run: Executor; close: () => Promise<void> } | null> {
  // The pool of the engine build this module belongs to: dist/ when compiled (as the harness runs it), the sources under tsx.
  const dir = join(import.meta.dirname, '..', '..', 'engine', 'query', 'pool');
  const entry = ['index.js', 'index.ts'].map((f) => join(dir, f)).find((f) => existsSync(f));
  if (entry === undefined) return null;
  const mod = (await import(pathToFileURL(entry).href)) as Record<string, unknown>;
  let pool: PoolLike | null = null;
  for (const factory of ['createQueryPool', 'createPool', 'startQueryPool']) {
    if (typeof mod[factory] === 'function') {
      pool = (await (mod[factory] as () => Promise<PoolLike> | PoolLike)()) as PoolLike;
      break;
    }
  }
  if (pool === null && typeof mod.QueryPool === 'function') {
    const cls = mod.QueryPool as { create?: () => Promise<PoolLike>; new (): PoolLike };
    pool = cls.create !== undefined ? await cls.create() : new cls();
  }
  const run = pool?.run ?? pool?.query;
  if (pool === null || run === undefined) return null;
  pool.warm?.();
  return {
    name: `worker pool (engine/query/pool ${Object.keys(mod).filter((k) => /pool/i.test(k)).sort().join(', ')}; workers started at open)`,
    run: (snapshot, json) => run.call(pool, snapshot, json),
    close: async () => {
      await (pool.close ?? pool.destroy)?.call(pool);
    },
  };
}

export class ShoalQuerySession {
  private constructor(
    private readonly store: Store,
    readonly table: string,
    readonly executor: string,
    private readonly exec: Executor,
    private readonly closeExecutor: () => Promise<void>,
  ) {}

  /** Opens the store at `dir` (read only in practice: nothing is ingested) and picks the executor. */
  static async open(dir: string, table = 'events', opts: { pool?: boolean } = {}): Promise<ShoalQuerySession> {
    const store = await Store.open(dir, { table: { autoCompact: false } });
    store.get(table);
    const pool = opts.pool === false ? null : await loadPool();
    if (pool !== null) {
      const session = new ShoalQuerySession(store, table, pool.name, pool.run, pool.close);
      // A running server has its workers up; so that "cold" times the query's reads and not the
      // workers' start-up (seconds under tsx), open ends with a query that matches no row.
      await session.query({ measures: ['count'], where: [PROBE_COLUMN, '=', PROBE_VALUE] });
      return session;
    }
    const single: Executor = async (snapshot, json) => (await runQuery(snapshot, json)) as unknown as ShoalAnswer;
    return new ShoalQuerySession(store, table, 'runQuery (single thread, engine/query/index.ts)', single, async () => {});
  }

  /** Runs one query (the `table` field is added) on a fresh snapshot. */
  async query(json: Record<string, unknown>): Promise<ShoalAnswer> {
    const snapshot = this.store.get(this.table).snapshot();
    try {
      return await this.exec(snapshot, { table: this.table, ...json });
    } finally {
      snapshot.release();
    }
  }

  async close(): Promise<void> {
    await this.closeExecutor();
    await this.store.close(false);
  }
}
