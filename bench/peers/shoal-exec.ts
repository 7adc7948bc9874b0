/**
 * Shoal as a query contestant, through the engine's public API only: `Store.open`, a table
 * snapshot per query, and an executor. The executor is the worker pool of engine/query/pool/ when
 * that module exists and exports a usable entry point, else `runQuery` on the calling thread;
 * `executor` names the one measured, so results say which.
 *
 * One `ShoalQuerySession` owns the store (and its directory lock) for its process.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Store } from '../../engine/index.js';
import { runQuery } from '../../engine/query/index.js';
import type { TableSnapshot } from '../../engine/index.js';
import { REPO } from './common.js';

/** What a Shoal query answers: columns and rows as PRODUCT.md's result object. */
export interface ShoalAnswer {
  columns: { name: string; type: string }[];
  rows: unknown[][];
  stats?: Record<string, unknown>;
}

type Executor = (snapshot: TableSnapshot, json: unknown) => Promise<ShoalAnswer>;

interface PoolLike {
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
  const dir = join(REPO, 'engine', 'query', 'pool');
  if (!existsSync(join(dir, 'index.ts'))) return null;
  const mod = (await import(pathToFileURL(join(dir, 'index.ts')).href)) as Record<string, unknown>;
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
  return {
    name: `worker pool (engine/query/pool, ${Object.keys(mod).sort().join(', ')})`,
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
    if (pool !== null) return new ShoalQuerySession(store, table, pool.name, pool.run, pool.close);
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
