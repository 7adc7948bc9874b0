/**
 * The store: a data directory holding one folder per table. Opens tables lazily-but-all at
 * start (so recovery runs before anything is served), creates tables on first ingest, drops
 * them. A table whose manifest or actor files are damaged is reported by name and kept out of
 * service (requests for it get TABLE_UNAVAILABLE, never an empty table recreated over its
 * files; an admin may drop it); the rest of the store keeps working. Damage found later while
 * reading a segment is added to its table's damage list and logged.
 */
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { CorruptDataError, ShoalError } from '../errors.js';
import { DirLock } from './dir-lock.js';
import { fsyncDir, ioError, makeDirs } from './file-io.js';
import { SegmentReader, type DamageListener } from './segment-reader.js';
import { StoreMemory } from './store-memory.js';
import { listSegmentFiles, listWalFiles } from './table-files.js';
import { storeMemoryBudgetBytes } from './table-options.js';
import { openTable } from './table-open.js';
import { DEFAULT_TABLE_OPTIONS, Table, type Damage, type TableOptions } from './table.js';

export const TABLE_NAME = /^[a-z][a-z0-9_]{0,62}$/;
export const DEFAULT_SHARDS = 16;

export interface StoreOptions {
  table?: Partial<TableOptions>;
  /** Tail memory of all tables together (default: `storeMemoryBudgetBytes` of the tables' budget). */
  memoryBudgetBytes?: number;
  shardCount?: number;
  /** Where background errors and damage reports go (default: stderr). */
  log?: (message: string) => void;
}

/** A damaged file and the table it belongs to. */
export interface StoreDamage extends Damage {
  table: string;
}

export interface TableConfig {
  actorColumn?: string;
  timeColumn?: string;
}

export function assertTableName(name: string): void {
  if (typeof name !== 'string' || !TABLE_NAME.test(name)) throw new ShoalError('BAD_TABLE_NAME', [String(name).slice(0, 100)]);
}

/** Directories of dropped tables not yet deleted (a crash came between the rename and the delete). */
const DROPPED_PREFIX = '.dropped-';

/** How long a drop waits for queries still reading the table. */
const DROP_WAIT_MS = 30_000;

export class Store {
  readonly dir: string;
  private readonly tables = new Map<string, Table>();
  private readonly opening = new Map<string, Promise<Table>>();
  /** Tables being dropped: a new table of the same name waits until the old one's files are gone. */
  private readonly dropping = new Map<string, Promise<void>>();
  /** Tables that could not be opened, with the reason (e.g. a corrupt manifest). */
  readonly unopenable = new Map<string, string>();
  /** The file that kept each unopenable table closed (the table directory when unknown). */
  private readonly unopenableFiles = new Map<string, string>();
  private readonly onDamage: DamageListener;
  private readonly options: TableOptions;
  /** The budget every table's tails count against, besides its own. */
  readonly memory: StoreMemory;
  private readonly shardCount: number;
  readonly log: (message: string) => void;
  private closed = false;
  private lock: DirLock | null = null;

  private constructor(dir: string, opts: StoreOptions) {
    this.dir = dir;
    this.options = { ...DEFAULT_TABLE_OPTIONS, ...opts.table };
    this.memory = new StoreMemory(opts.memoryBudgetBytes ?? storeMemoryBudgetBytes(this.options.memoryBudgetBytes));
    this.shardCount = opts.shardCount ?? DEFAULT_SHARDS;
    this.log = opts.log ?? ((m) => process.stderr.write(`shoal: ${m}\n`));
    this.onDamage = (path, reason) => this.reportDamage(path, reason);
  }

  /** Adds damage found while reading a file of a table to its list (once per file) and logs it. */
  reportDamage(path: string, reason: string): void {
    const rel = relative(this.dir, path);
    if (rel.startsWith('..')) return;
    const table = this.tables.get(rel.split(sep)[0]);
    if (table === undefined || table.damaged.some((d) => d.file === path)) return;
    table.damaged.push({ file: path, reason });
    this.log(`table "${table.name}": damaged file ${path}: ${reason}`);
  }

  private markUnopenable(name: string, err: unknown): void {
    const message = (err as Error)?.message ?? String(err);
    this.unopenable.set(name, message);
    this.unopenableFiles.set(name, err instanceof CorruptDataError ? err.file : join(this.dir, name));
    this.log(`table "${name}" could not be opened: ${message}`);
  }

  /** Opens (creating if needed) the data directory and every table in it. */
  static async open(dir: string, opts: StoreOptions = {}): Promise<Store> {
    try {
      makeDirs(dir);
    } catch (err) {
      throw ioError(err, dir);
    }
    const store = new Store(dir, opts);
    store.lock = DirLock.acquire(dir);
    SegmentReader.damageListeners.add(store.onDamage);
    for (const name of readdirSync(dir)) {
      // A drop that a crash interrupted: the table was already out of the way, its files not yet gone.
      if (name.startsWith(DROPPED_PREFIX)) rmSync(join(dir, name), { recursive: true, force: true });
      if (!TABLE_NAME.test(name)) continue;
      const tableDir = join(dir, name);
      if (!existsSync(join(tableDir, 'manifest.json'))) {
        // Data files without a manifest: refuse rather than let a first ingest recreate it empty.
        if (listSegmentFiles(tableDir).length > 0 || listWalFiles(tableDir).length > 0) {
          store.markUnopenable(name, new CorruptDataError(join(tableDir, 'manifest.json'), 'missing although the table has segment or WAL files'));
        }
        continue;
      }
      try {
        await store.openExisting(name);
      } catch (err) {
        store.markUnopenable(name, err);
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
    table.joinStore(this.memory);
    this.tables.set(table.name, table);
  }

  tableNames(): string[] {
    return [...this.tables.keys()].sort();
  }

  /** The open table `name`; throws UNKNOWN_TABLE, or TABLE_UNAVAILABLE for one that failed to open. */
  get(name: string): Table {
    const t = this.tables.get(name);
    if (t === undefined) {
      this.assertOpenable(name);
      throw new ShoalError('UNKNOWN_TABLE', [String(name).slice(0, 100)]);
    }
    return t;
  }

  private assertOpenable(name: string): void {
    const why = this.unopenable.get(name);
    if (why !== undefined) throw new ShoalError('TABLE_UNAVAILABLE', [name, why]);
  }

  /** Every damaged file known: per open table, and the file that keeps each unopenable table closed. */
  damage(): StoreDamage[] {
    const out: StoreDamage[] = [];
    for (const t of this.tables.values()) for (const d of t.damaged) out.push({ table: t.name, ...d });
    for (const [name, reason] of this.unopenable) out.push({ table: name, file: this.unopenableFiles.get(name) ?? join(this.dir, name), reason });
    return out;
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
    this.assertOpenable(name);
    const existing = this.tables.get(name);
    if (existing !== undefined) {
      checkConfig(existing, config);
      return existing;
    }
    await this.dropping.get(name)?.catch(() => {});
    if (this.tables.has(name)) return this.getOrCreate(name, config);
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

  /** Closes and deletes a table and all its files (also one that could not be opened). */
  async drop(name: string): Promise<void> {
    if (this.unopenable.has(name) && !this.tables.has(name)) {
      assertTableName(name);
      this.removeTableDir(name);
      this.unopenable.delete(name);
      this.unopenableFiles.delete(name);
      return;
    }
    const table = this.get(name);
    this.tables.delete(name);
    table.dropped = true;
    const done = (async () => {
      // Queries that took a snapshot before the drop finish on it (workers open its segments by
      // path): the files go once none holds them, or after DROP_WAIT_MS at most.
      for (const until = Date.now() + DROP_WAIT_MS; table.segmentsInUse() && Date.now() < until; ) await new Promise((r) => setTimeout(r, 10));
      await table.close(false);
      this.removeTableDir(name);
    })();
    // A table of the same name is created only once the old one's files are gone.
    this.dropping.set(name, done);
    try {
      await done;
    } finally {
      this.dropping.delete(name);
    }
  }

  /**
   * Deletes a table's directory: first renamed out of the way in one step, so a crash midway
   * leaves either the whole table or a leftover the next open removes, never half a table
   * (which would open with its segments missing).
   */
  private removeTableDir(name: string): void {
    const trash = join(this.dir, `${DROPPED_PREFIX}${name}-${process.pid}-${Date.now()}`);
    let target = join(this.dir, name);
    try {
      renameSync(target, trash);
      fsyncDir(this.dir); // the rename is on disk before any file inside goes
      target = trash;
    } catch {
      // nothing to rename (a table never written), or renaming refused: delete in place
    }
    rmSync(target, { recursive: true, force: true });
  }

  /** Closes every table, flushing tails to segments unless `flush` is false. */
  async close(flush = true): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    SegmentReader.damageListeners.delete(this.onDamage);
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
