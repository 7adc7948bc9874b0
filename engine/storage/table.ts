/**
 * A table: the shards' WALs, in-memory tails, actor dictionaries and segments, tied together by
 * the manifest. Owns the ingest path (split and encode, ingest-call.ts → group commit,
 * group-commit.ts → tail) and hands out snapshots.
 *
 * Durability: `ingest` resolves only after every WAL record of the call (one per shard it
 * touches, all carrying one transaction id) and its dead-letter lines are fsynced; concurrent
 * calls share one fsync round (group commit). An `unlogged` call (a bulk load) writes no WAL
 * records: its rows become durable when a flush commits them. Flushes and compactions commit
 * through the manifest (see flush.ts, compaction.ts); recovery is in recovery.ts.
 *
 * Threading: main thread only. Ingest calls are serialized in call order; the commit loop is the
 * only writer of WAL files; flush and compaction run one at a time (the maintenance chain).
 */
import type { EventBatch } from '../../ingest/batch.js';
import { ShoalError } from '../errors.js';
import type { TableSnapshot } from '../query/source.js';
import type { ActorDict } from './actor-dict.js';
import { Admission } from './admission.js';
import { ingestBuffers } from './buffer-pool.js';
import { Maintenance } from './maintenance.js';
import { DeadLetterLog } from './dead-letter.js';
import { applyGroup, writeGroup, type PendingCommit } from './group-commit.js';
import type { IdempotencyIndex } from './idempotency.js';
import { encodeCall, type CallContext } from './ingest-call.js';
import { PendingColumns } from './pending-columns.js';
import type { ManifestBody } from './manifest.js';
import { SegmentHandle } from './segment-handle.js';
import { ActorCache } from './split-batch.js';
import type { StoreMemory } from './store-memory.js';
import { Tail, tailSetBytes } from './tail.js';
import { TailDicts } from './tail-dicts.js';
import { takeSnapshot } from './table-snapshot.js';
import type { StoredType } from './typed-column.js';
import { walPath } from './table-files.js';
import { WalWriter } from './wal.js';
import type { ShardPart } from './wal-record.js';
import type { IngestOptions, IngestResult, TableOptions } from './table-options.js';

export { DEFAULT_TABLE_OPTIONS, type IngestOptions, type IngestResult, type TableOptions } from './table-options.js';

export interface Damage {
  file: string;
  reason: string;
}

/** A frozen generation of tails waiting to be flushed. */
export interface FrozenTails {
  genMin: number;
  genMax: number;
  tails: Tail[];
}

export class Table {
  readonly name: string;
  readonly dir: string;
  readonly options: TableOptions;
  manifest: ManifestBody;
  readonly schema: Map<string, StoredType>;
  /** Columns of `schema` that only calls not yet committed have used. */
  readonly pendingColumns = new PendingColumns();
  readonly actors: ActorDict[];
  tails: Tail[];
  frozen: FrozenTails[] = [];
  wals: WalWriter[];
  readonly segments = new Map<string, SegmentHandle>();
  readonly deadLetters: DeadLetterLog;
  readonly idempotency: IdempotencyIndex;
  readonly damaged: Damage[] = [];
  nextBatchId: number;
  lastIngestMs: number | null;
  private readonly queue: PendingCommit[] = [];
  /** Flushes and compactions, one after another. */
  private readonly maintenance = new Maintenance(
    async () => (await import('./flush.js')).flushTable(this),
    () => this.admission.wakeAll(),
    (err) => this.onBackgroundError(err),
  );
  /** Back-pressure against the memory budget. */
  private readonly admission = new Admission({
    budgetBytes: () => this.options.memoryBudgetBytes,
    tailBytes: () => this.tailBytes(),
    activeTailBytes: () => this.activeTailBytes(),
    activeRows: () => this.tails.reduce((n, t) => n + t.rowCount, 0),
    store: () => this.memory,
    tailRows: () => this.tailRows(),
    frozenCount: () => this.frozen.length,
    closed: () => this.closed,
    flushing: () => this.maintenance.flushing(),
    scheduleFlush: () => this.scheduleFlush(),
    flushBackingOff: () => this.maintenance.backingOff(),
  });
  /** Shards and actor ids by parse-worker dictionary entry (see split-batch.ts). */
  private readonly actorCache = new ActorCache();
  private committing = false;
  /** Settles when the last ingest call's split is done: the next one starts then (see `pace`). */
  private splitTurn: Promise<void> = Promise.resolve();
  /**
   * While a paced group commit appends to the tails in slices: each tail's row count before it,
   * all a snapshot sees, so a group's transactions become visible at once.
   */
  private readonly visibleRows = new Map<Tail, number>();
  private rotateWaiters: ((err?: unknown) => void)[] = [];
  closed = false;
  /** close() has begun: ingest calls are refused. */
  private closing = false;
  /** The store is dropping the table: ingest calls are refused as for an unknown table. */
  dropped = false;
  /** Ingest calls under way (admitted, splitting, queued or committing). */
  private inFlight = 0;
  /** Called when a background flush or compaction fails (logged by the owner). */
  onBackgroundError: (err: unknown) => void = () => {};
  /** The store's budget for the tails of all its tables (store-memory.ts), once the store adopts the table. */
  private memory: StoreMemory | null = null;

  constructor(init: {
    name: string;
    dir: string;
    options: TableOptions;
    manifest: ManifestBody;
    actors: ActorDict[];
    deadLetters: DeadLetterLog;
    idempotency: IdempotencyIndex;
    nextBatchId: number;
    /** WAL generation new writes go to. */
    generation: number;
  }) {
    this.name = init.name;
    this.dir = init.dir;
    this.options = init.options;
    this.manifest = init.manifest;
    this.schema = new Map(init.manifest.schema);
    this.actors = init.actors;
    this.deadLetters = init.deadLetters;
    this.idempotency = init.idempotency;
    this.nextBatchId = init.nextBatchId;
    this.lastIngestMs = init.manifest.lastIngestMs;
    const gen = init.generation;
    this.tails = this.newTails(gen);
    this.wals = this.shardIndexes().map((s) => WalWriter.open(walPath(this.dir, gen, s)));
  }

  get actorColumn(): string {
    return this.manifest.actorColumn;
  }
  get timeColumn(): string {
    return this.manifest.timeColumn;
  }
  get shardCount(): number {
    return this.manifest.shardCount;
  }
  get generation(): number {
    return this.tails[0].generation;
  }

  /** Empty tails for a generation, sharing one set of string dictionaries. */
  private newTails(generation: number): Tail[] {
    const dicts = new TailDicts();
    // Each shard's even share of where the active tails get flushed (see `ingest`).
    const shards = this.manifest.shardCount;
    const flushPoint = { rows: this.options.flushRows / shards, bytes: this.options.memoryBudgetBytes / 2 / shards };
    return this.shardIndexes().map((s) => new Tail(s, generation, dicts, flushPoint));
  }

  shardIndexes(): number[] {
    return Array.from({ length: this.manifest.shardCount }, (_, s) => s);
  }

  /** Rows in the tails (active and frozen), i.e. not yet in segments. */
  tailRows(): number {
    let n = 0;
    for (const t of this.tails) n += t.rowCount;
    for (const f of this.frozen) for (const t of f.tails) n += t.rowCount;
    return n;
  }

  /**
   * Stores parsed batches durably, as one transaction: after a crash they are all present or
   * none is. Resolves after the group commit that carries them; rejects (storing nothing) on an
   * I/O error such as DISK_FULL. With an idempotency key already committed in the last 24 h,
   * stores nothing and returns the first call's result.
   */
  async ingest(input: EventBatch | EventBatch[], opts: IngestOptions = {}): Promise<IngestResult> {
    if (this.dropped) throw new ShoalError('UNKNOWN_TABLE', [this.name]);
    if (this.closed || this.closing) throw new ShoalError('STORE_CLOSED');
    if (opts.unlogged === true && opts.idempotencyKey !== undefined) throw new ShoalError('BAD_REQUEST', ['an idempotency key needs a logged ingest: a key is only as durable as its WAL record']);
    this.inFlight++;
    try {
      return await this.ingestOpen(input, opts);
    } finally {
      this.inFlight--;
    }
  }

  /** `ingest`, counted as under way (close waits for it). */
  private async ingestOpen(input: EventBatch | EventBatch[], opts: IngestOptions): Promise<IngestResult> {
    const key = opts.idempotencyKey;
    if (key !== undefined) {
      const known = this.idempotency.lookup(key);
      if (known !== undefined) return { ...(await known), duplicate: true };
    }
    const batches = Array.isArray(input) ? input : [input];
    const admitted = await this.admission.admit(batches.reduce((n, b) => n + b.count, 0));
    try {
      // A call with the same key may have been admitted while this one waited for memory.
      const known = key === undefined ? undefined : this.idempotency.lookup(key);
      if (known !== undefined) return { ...(await known), duplicate: true };
      const run = this.ingestNow(batches, opts);
      if (key !== undefined) this.idempotency.pending(key, run);
      const result = await run;
      const rows = this.tailRows();
      if (rows > 0 && (rows >= this.options.flushRows || this.activeTailBytes() >= this.options.memoryBudgetBytes / 2)) this.scheduleFlush();
      else this.memory?.maybeFlush();
      return result;
    } finally {
      this.admission.release(admitted);
    }
  }

  /** Bytes held by the active tails and their dictionaries. */
  activeTailBytes(): number {
    return tailSetBytes(this.tails);
  }

  /** Bytes held by active and frozen tails: what the memory budget bounds. */
  tailBytes(): number {
    let bytes = this.activeTailBytes();
    for (const f of this.frozen) bytes += tailSetBytes(f.tails);
    return bytes;
  }

  private async ingestNow(batches: EventBatch[], opts: IngestOptions): Promise<IngestResult> {
    // One split at a time, in call order (a paced one yields midway): actor ids and column
    // types are then assigned in the order the WAL replays them.
    const previous = this.splitTurn;
    let endTurn!: () => void;
    this.splitTurn = new Promise((resolve) => (endTurn = resolve));
    let committed: Promise<void>;
    let result: IngestResult;
    try {
      await previous;
      [committed, result] = await this.splitAndQueue(batches, opts);
    } finally {
      endTurn();
    }
    await committed;
    return result;
  }

  /** Splits and encodes a call's batches and queues its commit; returns the commit's promise. */
  private async splitAndQueue(batches: EventBatch[], opts: IngestOptions): Promise<[Promise<void>, IngestResult]> {
    const call: CallContext = {
      schema: { types: this.schema, maxColumns: this.options.maxColumns },
      shardCount: this.shardCount,
      split: { dicts: this.tails[0].dicts, actors: this.actors, actorCache: this.actorCache, pool: ingestBuffers },
      actorColumn: this.actorColumn,
      timeColumn: this.timeColumn,
      takeBatchId: () => this.nextBatchId++,
    };
    const seq = this.pendingColumns.begin(batches);
    const before = new Set(this.schema.keys());
    let encoded: Awaited<ReturnType<typeof encodeCall>>;
    try {
      encoded = await encodeCall(batches, call, opts);
    } catch (err) {
      this.pendingColumns.added(seq, this.schema, before);
      this.pendingColumns.failed([seq], this.schema);
      throw err;
    }
    this.pendingColumns.added(seq, this.schema, before);
    const { pending, result } = encoded;
    const committed = new Promise<void>((resolve, reject) => {
      this.queue.push({ ...pending, seq, resolve, reject });
      void this.commitLoop();
    });
    return [committed, result];
  }

  /** Group commit: writes every queued batch, fsyncs each touched file once, then applies. */
  private async commitLoop(): Promise<void> {
    if (this.committing) return;
    this.committing = true;
    try {
      while (this.queue.length > 0) {
        const group = this.queue.splice(0);
        await this.commitGroup(group);
        this.rotateIfRequested();
      }
      this.rotateIfRequested();
    } finally {
      this.committing = false;
    }
  }

  private async commitGroup(group: PendingCommit[]): Promise<void> {
    try {
      await writeGroup(group, this.wals, this.deadLetters);
    } catch (err) {
      this.pendingColumns.failed(group.map((item) => item.seq), this.schema);
      for (const item of group) {
        for (const b of item.partBuffers) ingestBuffers.release(b);
        item.reject(err);
      }
      return;
    }
    this.pendingColumns.written(group, this.generation);
    for (const item of group) if (item.unlogged) for (const part of item.parts) this.tails[part.shard].unlogged = true;
    try {
      await applyGroup(
        group,
        (part) => this.applyPart(this.tails[part.shard], part),
        () => {
          for (const t of this.tails) this.visibleRows.set(t, t.rowCount);
        },
        () => this.visibleRows.clear(),
      );
    } catch (err) {
      // Never expected (the group is durable and comes back on replay), but no call may hang on it.
      for (const item of group) item.reject(err);
      return;
    } finally {
      // The tails copied the parts: their buffers can serve the next batches.
      for (const item of group) for (const b of item.partBuffers) ingestBuffers.release(b);
    }
    this.lastIngestMs = Date.now();
    for (const item of group) item.resolve();
  }

  applyPart(tail: Tail, part: ShardPart): void {
    tail.append(part, part.actorRowIds !== undefined ? null : (part.actorIds ?? this.actors[part.shard].idsFor(part.actorValues)));
    if (part.idempotency !== undefined) {
      this.idempotency.committed(part.idempotency, tail.generation);
    }
  }

  /**
   * Freezes the current tails and starts a new WAL generation, between two group commits.
   * Resolves once that happened (nothing is frozen when the tails are empty); rejects, changing
   * nothing, when the next generation's WAL files cannot be created (a full disk).
   */
  rotate(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.rotateWaiters.push((err) => (err === undefined ? resolve() : reject(err)));
      if (!this.committing) this.rotateIfRequested();
    });
  }

  private rotateIfRequested(): void {
    if (this.rotateWaiters.length === 0) return;
    const waiters = this.rotateWaiters;
    this.rotateWaiters = [];
    if (this.tails.some((t) => t.rowCount > 0)) {
      const gen = this.generation;
      const next = gen + 1;
      // Open the next generation before freezing anything: a failure leaves the table as it was.
      const wals: WalWriter[] = [];
      try {
        for (const s of this.shardIndexes()) wals.push(WalWriter.open(walPath(this.dir, next, s)));
      } catch (err) {
        for (const w of wals) w.close();
        for (const w of waiters) w(err);
        return;
      }
      this.frozen.push({ genMin: gen, genMax: gen, tails: this.tails });
      for (const w of this.wals) w.close();
      this.wals = wals;
      this.tails = this.newTails(next);
    }
    for (const w of waiters) w();
  }

  /** Queues a flush unless one is queued; false when none will run (closed, or retrying too soon: maintenance.ts). */
  scheduleFlush(): boolean {
    return !this.closed && this.maintenance.queueFlush();
  }

  /** Runs `task` after every earlier flush or compaction. */
  runMaintenance(task: () => Promise<void>): Promise<void> {
    return this.maintenance.run(task);
  }

  /** Flushes every acknowledged row into segments (waiting for earlier maintenance). */
  flush(): Promise<void> {
    return this.maintenance.flush();
  }

  /** Counts the table's tails against the store's budget `memory` from now until it closes. */
  joinStore(memory: StoreMemory): void {
    this.memory = memory;
    memory.add(this.admission.holder);
  }

  /** Merges segments: every partition with 2+ segments when `full`, else those past `compactAt`. */
  compact(full = true): Promise<number> {
    let merged = 0;
    return this.runMaintenance(async () => {
      const { compactTable } = await import('./compaction.js');
      merged = await compactTable(this, { full });
    }).then(() => merged);
  }

  /** Waits for in-flight commits and maintenance, optionally flushes, and closes every file. */
  async close(flush = true): Promise<void> {
    if (this.closed) return;
    // New calls are refused; those under way (splitting, queued, committing) finish first, so
    // none writes to a WAL file descriptor closed here (or since reused by another file).
    this.closing = true;
    while (this.inFlight > 0 || this.committing || this.queue.length > 0) await new Promise((r) => setImmediate(r));
    if (flush) await this.flush().catch((err) => this.onBackgroundError(err));
    await this.maintenance.idle();
    await (await import('./flush.js')).settleRetiredWals(this.dir);
    this.closed = true;
    this.memory?.delete(this.admission.holder);
    for (const w of this.wals) w.close();
    this.deadLetters.close();
    for (const h of this.segments.values()) h.reader.close();
  }

  /** Whether a snapshot still holds one of the table's segments. */
  segmentsInUse(): boolean {
    for (const h of this.segments.values()) if (h.inUse) return true;
    return false;
  }

  /** A consistent view of the table for a query; call `release()` when done. */
  snapshot(): TableSnapshot {
    return takeSnapshot({
      table: this.name,
      actorColumn: this.actorColumn,
      timeColumn: this.timeColumn,
      schema: this.schema,
      segments: this.segments.values(),
      actors: this.actors,
      tailsOf: (s) => [...this.frozen.map((f) => f.tails[s]), this.tails[s]],
      visible: (t) => this.visibleRows.get(t) ?? t.rowCount,
    });
  }
}
