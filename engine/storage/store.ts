/**
 * The store: a data directory holding one folder per table. Opens tables lazily-but-all at
 * start (so recovery runs before anything is served), creates tables on first ingest, drops
 * them. A table whose manifest or actor files are damaged is reported by name and skipped;
 * the rest of the store keeps working.
 */
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ShoalError } from '../errors.js';
import { DirLock } from './dir-lock.js';
import { openTable } from './table-open.js';
import { DEFAULT_TABLE_OPTIONS, Table, type TableOptions } from './table.js';

export const TABLE_NAME = /^[a-z][a-z0-9_]{0,62}$/;
export const DEFAULT_SHARDS = 16;

export interface StoreOptions {
  table?: Partial<TableOptions>;
  shardCount?: number;
  /** Where background errors and damage reports go (default: stderr). */
  log?: (message: string) => void;
}

export interface TableConfig {
  actorColumn?: string;
  timeColumn?: string;
}

export function assertTableName(name: string): void {
  if (typeof name !== 'string' || !TABLE_NAME.test(name)) throw new ShoalError('BAD_TABLE_NAME', [String(name).slice(0, 100)]);
}

export class Store {
  readonly dir: string;
  private readonly tables = new Map<string, Table>();
  private readonly opening = new Map<string, Promise<Table>>();
  /** Tables that could not be opened, with the reason (e.g. a corrupt manifest). */
  readonly unopenable = new Map<string, string>();
  private readonly options: TableOptions;
  private readonly shardCount: number;
  readonly log: (message: string) => void;
  private closed = false;
  private lock: DirLock | null = null;

  private constructor(dir: string, opts: StoreOptions) {
    this.dir = dir;
    this.options = { ...DEFAULT_TABLE_OPTIONS, ...opts.table };
    this.shardCount = opts.shardCount ?? DEFAULT_SHARDS;
    this.log = opts.log ?? ((m) => process.stderr.write(`shoal: ${m}\n`));
  }

  /** Opens (creating if needed) the data directory and every table in it. */
  static async open(dir: string, opts: StoreOptions = {}): Promise<Store> {
    mkdirSync(dir, { recursive: true });
    const store = new Store(dir, opts);
    store.lock = DirLock.acquire(dir);
    for (const name of readdirSync(dir)) {
      if (!TABLE_NAME.test(name) || !existsSync(join(dir, name, 'manifest.json'))) continue;
      try {
        await store.openExisting(name);
      } catch (err) {
        store.unopenable.set(name, (err as Error).message);
        store.log(`table "${name}" could not be opened: ${(err as Error).message}`);
      }
    }
    return store;
  }

  private async openExisting(name: string): Promise<Table> {
    const table = await openTable(join(this.dir, name), name, this.options);
    this.adopt(table);
    return table;
  }

  private adopt(table: Table): void {
    table.onBackgroundError = (err) => this.log(`table "${table.name}": background work failed: ${(err as Error).message}`);
    for (const d of table.damaged) this.log(`table "${table.name}": damaged file ${d.file}: ${d.reason}`);
    this.tables.set(table.name, table);
  }

  tableNames(): string[] {
    return [...this.tables.keys()].sort();
  }

  /** The open table `name`; throws UNKNOWN_TABLE. */
  get(name: string): Table {
    const t = this.tables.get(name);
    if (t === undefined) throw new ShoalError('UNKNOWN_TABLE', [String(name).slice(0, 100)]);
    return t;
  }

  has(name: string): boolean {
    return this.tables.has(name);
  }

  /**
   * The table `name`, created with `config` if it does not exist. Asking for an existing table
   * with a different actor or time column is an error (they are fixed at creation).
   */
  async getOrCreate(name: string, config: TableConfig = {}): Promise<Table> {
    if (this.closed) throw new ShoalError('STORE_CLOSED');
    assertTableName(name);
    const existing = this.tables.get(name);
    if (existing !== undefined) {
      checkConfig(existing, config);
      return existing;
    }
    let pending = this.opening.get(name);
    if (pending === undefined) {
      pending = openTable(join(this.dir, name), name, this.options, {
        actorColumn: config.actorColumn ?? 'user_id',
        timeColumn: config.timeColumn ?? 'time',
        shardCount: this.shardCount,
      }).then((t) => {
        this.adopt(t);
        return t;
      });
      this.opening.set(name, pending);
      pending.finally(() => this.opening.delete(name)).catch(() => {});
    }
    const table = await pending;
    checkConfig(table, config);
    return table;
  }

  /** Closes and deletes a table and all its files. */
  async drop(name: string): Promise<void> {
    const table = this.get(name);
    this.tables.delete(name);
    await table.close(false);
    rmSync(table.dir, { recursive: true, force: true });
  }

  /** Closes every table, flushing tails to segments unless `flush` is false. */
  async close(flush = true): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.tables.values()].map((t) => t.close(flush)));
    this.tables.clear();
    this.lock?.release();
  }
}

function checkConfig(table: Table, config: TableConfig): void {
  for (const [key, want, have] of [
    ['actor', config.actorColumn, table.actorColumn],
    ['time', config.timeColumn, table.timeColumn],
  ] as const) {
    if (want !== undefined && want !== have) {
      throw new ShoalError('TABLE_CONFIG_CONFLICT', [`table "${table.name}" has ${key} column "${have}", not "${want}"`]);
    }
  }
}
