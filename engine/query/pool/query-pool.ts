/**
 * QueryPool: runs queries on worker threads, one per core by default, so the main thread
 * only validates, plans, merges and finalizes.
 *
 *   main:    validateQuery → createPlan → per worker: shard descriptors (+ deltas) ─┐
 *   workers: open segments / mirror tails → runShardPartial per shard ←──────────────┘
 *   main:    mergePartials(all shard partials) → finalize → (scale if sampled)
 *
 * Ownership: shard s always goes to worker s mod n, so a worker's open segment readers,
 * decoded-block cache and tail/actor mirrors serve every later query on its shards. The pool
 * calls only the engine's exported functions, never switches on plan kinds, so any kind that
 * runShardPartial/mergePartials/finalize handle runs in workers unchanged.
 *
 * Small queries (shards holding at most `inlineMaxRows` rows, default 65,536: one row group,
 * well under a millisecond of scanning, less than a worker round trip) and snapshots whose
 * sources workers cannot open (wrapped sources, quarantined segments) run on the calling
 * thread through `runQuery`. So do aggregates answerable from metadata alone (row counts
 * whose filter the zone maps decide, see `countFromMetadata`): they decode nothing.
 *
 * Cancellation and timeouts: aborting the caller's signal (or `timeoutMs` passing) rejects the
 * query at once and sets the query's shared flag, which the workers' scans poll between row
 * groups. A worker that dies fails its tasks with QUERY_WORKER_FAILED and is replaced.
 *
 * Threading: main thread only; the class owns its workers.
 */
import { availableParallelism, totalmem } from 'node:os';
import { Worker } from 'node:worker_threads';
import { CorruptDataError, ShoalError } from '../../errors.js';
import { SegmentReader } from '../../storage/segment-reader.js';
import { emptyPartial, finalize, mergePartials, runQuery, type AggregatePlan, type RunOptions } from '../index.js';
import type { Partial as PartialResult } from '../partial.js';
import { createPlan, DEFAULT_LIMITS, type Plan, type QueryLimits } from '../plan.js';
import { querySample, sampleShards, scaleSampled, type SampledResult } from '../sample.js';
import { countFromMetadata } from '../count-metadata.js';
import type { ShardSnapshot, TableSnapshot } from '../source.js';
import { validateQuery } from '../validate.js';
import { defaultBlockCacheBytes } from './block-cache.js';
import { describable, MirrorState } from './mirror-sync.js';
import { FLAG_BYTES, fromWire, type RunRequest, type WorkerReply } from './wire.js';
import { workerEntryUrl } from './worker-script.js';

export interface QueryPoolOptions {
  /** Worker threads (default: $SHOAL_QUERY_WORKERS or one per core). */
  workers?: number;
  /** Decoded-block cache per worker, bytes (default: $SHOAL_BLOCK_CACHE_MB MiB, else 45% of memory over the workers, 256 MiB–16 GiB each). */
  blockCacheBytes?: number;
  /** Queries over at most this many rows run on the calling thread (default 65,536; 0: never). */
  inlineMaxRows?: number;
  /** V8 old-generation limit per worker in MiB (default: Node's); a worker over it dies and is replaced. */
  workerMaxOldGenerationMb?: number;
}

/** What a query reports while it runs (the server's metrics); both optional to call. */
export interface PoolProgress {
  rowsScanned(rows: number): void;
  busy(worker: string, seconds: number): void;
}

export interface PoolRunOptions extends RunOptions {
  /** Fails the query with QUERY_TIMEOUT after this long. */
  timeoutMs?: number;
  progress?: PoolProgress;
  /**
   * An interactive query: a worker busy with a long scan runs this query's task where that
   * scan polls for cancellation (between row groups) instead of after it.
   */
  urgent?: boolean;
}

export interface WorkerStats {
  index: number;
  threadId: number;
  /** Tasks sent (one per query that touches the worker's shards). */
  tasks: number;
  /** Tasks that ended because their query was cancelled or timed out. */
  cancelled: number;
  /** Tasks that failed (errors, or lost with a dead worker). */
  failed: number;
  /** Tasks queued or running now. */
  pending: number;
  /** Rows of row groups read, counted as they are read. */
  rowsScanned: number;
  busyMs: number;
  /** Bytes in the worker's decoded-block cache after its last task. */
  blockCacheBytes: number;
  /** Times this worker slot was restarted after its thread died. */
  restarts: number;
}

export interface PoolStats {
  workers: WorkerStats[];
  tasks: number;
  cancelledTasks: number;
  failedTasks: number;
  rowsScanned: number;
  busyMs: number;
  workerRestarts: number;
  /** Queries run on the calling thread (small, or over sources workers cannot open). */
  inlineQueries: number;
  /** Queries answered on the calling thread from zone maps and row counts alone (no decoding). */
  metadataQueries: number;
  blockCacheBudgetBytes: number;
}

interface Task {
  resolve: (p: PartialResult[]) => void;
  reject: (e: unknown) => void;
  progress: PoolProgress | undefined;
}

interface Slot {
  index: number;
  worker: Worker;
  mirror: MirrorState;
  pending: Map<number, Task>;
  /** Urgent tasks posted to the worker and not yet started (shared with it). */
  urgent: Int32Array;
  crash: string | null;
  stats: WorkerStats;
}

function envNumber(name: string): number | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** Every shard's partial from zone maps and row counts, or null when some shard needs a scan. */
function fromMetadata(shards: ShardSnapshot[], thresholds: Map<number, number>, plan: AggregatePlan): PartialResult[] | null {
  const out: PartialResult[] = [];
  for (const s of shards) {
    const p = thresholds.get(s.shard)! >= 1 ? countFromMetadata(s, plan) : null;
    if (p === null) return null;
    out.push(p);
  }
  return out;
}

export class QueryPool {
  readonly size: number;
  readonly blockCacheBytes: number;
  readonly inlineMaxRows: number;
  private readonly maxOldGenerationMb: number | undefined;
  private readonly url: URL;
  /** Worker slots, started on first use (a pool that only sees small queries starts no thread). */
  private readonly slots: (Slot | undefined)[];
  private nextTaskId = 1;
  private closed = false;
  private inlineQueries = 0;
  private metadataQueries = 0;
  private restarts = 0;
  private readonly registry = new FinalizationRegistry<number>((dictId) => this.forget(dictId));
  private readonly onNewDict = (actorDict: object, dictId: number): void => this.registry.register(actorDict, dictId);

  constructor(options: QueryPoolOptions = {}) {
    this.size = Math.max(1, Math.floor(options.workers ?? envNumber('SHOAL_QUERY_WORKERS') ?? availableParallelism()));
    const cacheMb = envNumber('SHOAL_BLOCK_CACHE_MB');
    this.blockCacheBytes = options.blockCacheBytes ?? (cacheMb === undefined ? defaultBlockCacheBytes(this.size, totalmem()) : cacheMb * 1024 * 1024);
    this.inlineMaxRows = options.inlineMaxRows ?? 65_536;
    this.maxOldGenerationMb = options.workerMaxOldGenerationMb;
    this.url = workerEntryUrl(import.meta.url, 'query-worker');
    this.slots = new Array<Slot | undefined>(this.size);
  }

  private slot(index: number): Slot {
    return (this.slots[index] ??= this.spawn(index, 0));
  }

  private spawn(index: number, restarts: number): Slot {
    const resourceLimits = this.maxOldGenerationMb === undefined ? undefined : { maxOldGenerationSizeMb: this.maxOldGenerationMb };
    const urgentFlag = new SharedArrayBuffer(4);
    const worker = new Worker(this.url, { workerData: { blockCacheBytes: this.blockCacheBytes, urgentFlag }, resourceLimits });
    const slot: Slot = {
      index,
      worker,
      mirror: new MirrorState(),
      pending: new Map(),
      urgent: new Int32Array(urgentFlag),
      crash: null,
      stats: { index, threadId: worker.threadId, tasks: 0, cancelled: 0, failed: 0, pending: 0, rowsScanned: 0, busyMs: 0, blockCacheBytes: 0, restarts },
    };
    worker.on('message', (reply: WorkerReply) => this.onReply(slot, reply));
    worker.on('error', (err) => {
      slot.crash = err.message;
    });
    worker.on('exit', (code) => this.onExit(slot, worker, code));
    // After the listeners: a Worker's first 'message' listener refs its port, so an idle worker
    // (one restarted after a crash, say) would hold the process open.
    worker.unref();
    return slot;
  }

  /**
   * Validates and runs a query of any kind over a snapshot; resolves with the result of
   * `runQuery` on the same snapshot (sampled results scaled and flagged).
   */
  async run(snapshot: TableSnapshot, json: unknown, options: PoolRunOptions = {}): Promise<SampledResult> {
    const started = performance.now();
    const { signal: outer, timeoutMs, progress, urgent = false, ...limits } = options;
    outer?.throwIfAborted();
    if (this.closed) throw new ShoalError('SHUTTING_DOWN');
    const controller = new AbortController();
    const onOuter = (): void => controller.abort(outer!.reason);
    outer?.addEventListener('abort', onOuter, { once: true });
    const timer = timeoutMs === undefined ? undefined : setTimeout(() => controller.abort(new ShoalError('QUERY_TIMEOUT', [timeoutMs])), timeoutMs);
    try {
      const all: QueryLimits = { ...DEFAULT_LIMITS, ...limits };
      const query = validateQuery(json, snapshot);
      const plan = createPlan(query, snapshot, all);
      const sample = querySample(query);
      const thresholds = sampleShards(snapshot.shards.length, sample);
      const shards = snapshot.shards.filter((s) => thresholds.has(s.shard));
      let rows = 0;
      for (const s of shards) for (const src of s.sources) rows += src.rowCount;
      if ((this.inlineMaxRows > 0 && rows <= this.inlineMaxRows) || !shards.every(describable)) {
        this.inlineQueries++;
        const result = await runQuery(snapshot, json, { ...limits, signal: controller.signal });
        progress?.rowsScanned(result.stats.rowsScanned);
        progress?.busy('main', (performance.now() - started) / 1000);
        return result;
      }
      const counted = plan.kind === 'aggregate' ? fromMetadata(shards, thresholds, plan) : null;
      if (counted !== null) {
        // Row counts from zone maps: a worker round trip would cost more than the whole answer.
        this.metadataQueries++;
        const partials = counted;
        const result = finalize(partials.length === 0 ? emptyPartial(plan) : mergePartials(partials, { maxGroups: all.maxGroups }), plan);
        if (sample !== null) scaleSampled(result, sample, plan, snapshot.actorColumn);
        progress?.rowsScanned(result.stats.rowsScanned);
        result.stats.elapsedMs = Math.round((performance.now() - started) * 1000) / 1000;
        return result;
      }
      let metered = 0;
      const counting: PoolProgress | undefined = progress && {
        rowsScanned: (r) => {
          metered += r;
          progress.rowsScanned(r);
        },
        busy: (w, seconds) => progress.busy(w, seconds),
      };
      const partials = await this.scatter(shards, thresholds, plan, all, controller.signal, counting, urgent);
      const merged = partials.length === 0 ? emptyPartial(plan) : mergePartials(partials, { maxGroups: all.maxGroups });
      const result = finalize(merged, plan);
      if (sample !== null) scaleSampled(result, sample, plan, snapshot.actorColumn);
      // Row groups answered from zone maps alone decode nothing; count them as the stats do.
      if (progress !== undefined && result.stats.rowsScanned > metered) progress.rowsScanned(result.stats.rowsScanned - metered);
      result.stats.elapsedMs = Math.round((performance.now() - started) * 1000) / 1000;
      return result;
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onOuter);
    }
  }

  /** Sends each worker its shards of the query; resolves with every shard's partial, in shard order. */
  private async scatter(shards: ShardSnapshot[], thresholds: Map<number, number>, plan: Plan, limits: QueryLimits, signal: AbortSignal, progress: PoolProgress | undefined, urgent: boolean): Promise<PartialResult[]> {
    signal.throwIfAborted();
    const flags = new SharedArrayBuffer(FLAG_BYTES);
    const cancel = (): void => {
      Atomics.store(new Int32Array(flags, 0, 1), 0, 1);
    };
    const bySlot = new Map<Slot, ShardSnapshot[]>();
    for (const s of shards) {
      const slot = this.slot(s.shard % this.size);
      bySlot.set(slot, [...(bySlot.get(slot) ?? []), s]);
    }
    const tasks = [...bySlot].map(([slot, list]) => this.dispatch(slot, list, thresholds, plan, limits, flags, progress, urgent));
    let onAbort = (): void => {};
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
    });
    aborted.catch(() => {});
    try {
      const partials = (await Promise.race([Promise.all(tasks), aborted])).flat();
      // Shard order, as runQuery merges: float sums and first-seen group order come out the same.
      return partials.sort((a, b) => (a.shards[0] ?? 0) - (b.shards[0] ?? 0));
    } catch (err) {
      cancel(); // stop the other workers' shards of a failed or aborted query
      throw err;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  private dispatch(slot: Slot, shards: ShardSnapshot[], thresholds: Map<number, number>, plan: Plan, limits: QueryLimits, flags: SharedArrayBuffer, progress: PoolProgress | undefined, urgent: boolean): Promise<PartialResult[]> {
    const id = this.nextTaskId++;
    const req: RunRequest = {
      type: 'run',
      id,
      plan,
      maxGroups: limits.maxGroups,
      memoryBudgetBytes: limits.memoryBudgetBytes,
      flags,
      shards: shards.map((s) => slot.mirror.task(s, thresholds.get(s.shard)!, this.onNewDict)),
      urgent,
    };
    // Delta arrays are fresh copies: move them instead of copying them again.
    const transfer: ArrayBuffer[] = [];
    for (const t of req.shards) {
      for (const d of t.tailDeltas) {
        transfer.push(d.actorIds.buffer as ArrayBuffer, d.times.buffer as ArrayBuffer);
        for (const c of d.columns) transfer.push(c.values.buffer as ArrayBuffer, c.validity.buffer as ArrayBuffer);
      }
    }
    return new Promise<PartialResult[]>((resolve, reject) => {
      if (slot.pending.size === 0) slot.worker.ref();
      slot.pending.set(id, { resolve, reject, progress });
      slot.stats.tasks++;
      slot.worker.postMessage(req, transfer);
      // Counted after posting, so a worker that sees the count finds the message on its port.
      if (urgent) Atomics.add(slot.urgent, 0, 1);
    });
  }

  private onReply(slot: Slot, reply: WorkerReply): void {
    const task = slot.pending.get(reply.id);
    if (reply.type === 'progress') {
      slot.stats.rowsScanned += reply.rows;
      task?.progress?.rowsScanned(reply.rows);
      return;
    }
    if (task === undefined) return;
    slot.pending.delete(reply.id);
    if (slot.pending.size === 0) slot.worker.unref();
    slot.stats.busyMs += reply.busyMs;
    slot.stats.blockCacheBytes = reply.cacheBytes;
    task.progress?.busy(`worker${slot.index}`, reply.busyMs / 1000);
    if (reply.type === 'done') {
      task.resolve(reply.partials);
    } else if (reply.cancelled) {
      slot.stats.cancelled++;
      task.reject(new ShoalError('QUERY_CANCELLED', ['stopped by the pool']));
    } else {
      slot.stats.failed++;
      const err = fromWire(reply.error);
      // Damage a worker found is the store's to list and log, as if found on this thread.
      if (err instanceof CorruptDataError) for (const listener of SegmentReader.damageListeners) listener(err.file, err.detail);
      task.reject(err);
    }
  }

  private onExit(slot: Slot, worker: Worker, code: number): void {
    if (this.closed || slot.worker !== worker) return;
    const reason = slot.crash ?? `thread exited with code ${code}`;
    const err = new ShoalError('QUERY_WORKER_FAILED', [slot.index, reason]);
    for (const task of slot.pending.values()) {
      slot.stats.failed++;
      task.reject(err);
    }
    slot.pending.clear();
    this.restarts++;
    const next = this.spawn(slot.index, slot.stats.restarts + 1);
    const old = slot.stats;
    next.stats = { ...next.stats, tasks: old.tasks, cancelled: old.cancelled, failed: old.failed, rowsScanned: old.rowsScanned, busyMs: old.busyMs, blockCacheBytes: 0 };
    this.slots[slot.index] = next;
  }

  /** A table's actor array was collected: workers drop its mirrors, readers and tails. */
  private forget(dictId: number): void {
    if (this.closed) return;
    for (const slot of this.slots) {
      if (slot === undefined) continue;
      slot.mirror.forget(dictId);
      slot.worker.postMessage({ type: 'forget', dictIds: [dictId] });
    }
  }

  /** Counters for /metrics: tasks, cancellations, rows scanned and busy time per worker. */
  stats(): PoolStats {
    const workers = this.slots.filter((s) => s !== undefined).map((s) => ({ ...s.stats, pending: s.pending.size, threadId: s.worker.threadId }));
    const sum = (f: (w: WorkerStats) => number): number => workers.reduce((n, w) => n + f(w), 0);
    return {
      workers,
      tasks: sum((w) => w.tasks),
      cancelledTasks: sum((w) => w.cancelled),
      failedTasks: sum((w) => w.failed),
      rowsScanned: sum((w) => w.rowsScanned),
      busyMs: sum((w) => w.busyMs),
      workerRestarts: this.restarts,
      inlineQueries: this.inlineQueries,
      metadataQueries: this.metadataQueries,
      blockCacheBudgetBytes: this.blockCacheBytes,
    };
  }

  /** Starts every worker thread now, so the first large query does not wait for them. */
  warm(): void {
    for (let i = 0; i < this.size; i++) this.slot(i);
  }

  /** Terminates worker `index` as if it had crashed (operators and tests); it is replaced. */
  async killWorker(index: number): Promise<void> {
    await this.slot(index).worker.terminate();
  }

  /** Stops every worker; queries still running fail with SHUTTING_DOWN. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const err = new ShoalError('SHUTTING_DOWN');
    const started = this.slots.filter((s) => s !== undefined);
    for (const slot of started) {
      for (const task of slot.pending.values()) task.reject(err);
      slot.pending.clear();
    }
    // Referenced until gone: an idle worker is not, and the process could exit before terminate() settles.
    for (const s of started) s.worker.ref();
    await Promise.all(started.map((s) => s.worker.terminate()));
  }
}
