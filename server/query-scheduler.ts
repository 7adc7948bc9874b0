/**
 * Admission and isolation for queries. Each query is sized by the rows its time range touches
 * and goes to the interactive lane (small) or the heavy lane; each lane runs a bounded number
 * at once and queues a bounded number more (beyond that: 429 OVERLOADED). Heavy work never
 * occupies the interactive lane's slots, so dashboards keep their latency. Every query gets a
 * timeout (504) and is aborted when its client goes away; the executor stops scanning on abort.
 * On shutdown, new queries are refused and running ones get a grace period, then are aborted
 * with SHUTTING_DOWN (503).
 *
 * Background work on the main thread (an ingest's split, WAL encoding and tail appends, in
 * slices) takes its turns through `backgroundTurn`, which holds it back while interactive
 * queries execute: an inline query yields to the event loop between shards, and without this
 * every such yield would let a whole ingest slice run in the middle of the query.
 */
import { ShoalError, type Store, type TableSnapshot } from '../engine/index.js';
import { parseTimeBound } from '../engine/query/time-parse.js';
import type { ResultLike } from './respond.js';

/** What an executor reports while it runs (for metrics); both are optional to call. */
export interface ExecutorProgress {
  /** Rows of row groups read so far (called as they are read, cancelled queries included). */
  rowsScanned(rows: number): void;
  /** Time a worker (or the main thread, "main") spent on this query. */
  busy(worker: string, seconds: number): void;
}

/** Per-query limits beyond the timeout (defaults: the engine's). */
export interface QueryLimitOptions {
  maxGroups?: number;
  memoryBudgetBytes?: number;
}

/** How the scheduler runs one query: the server's limits, and whether it is interactive. */
export interface ExecuteOptions extends QueryLimitOptions {
  /** An interactive-lane query: the worker pool runs its tasks inside long scans (PoolRunOptions.urgent). */
  urgent?: boolean;
}

/** Runs one query; `options` carry the server's limits (buildApp adds them) and the lane. */
export type Executor = (snapshot: TableSnapshot, query: unknown, signal: AbortSignal, progress: ExecutorProgress, options?: ExecuteOptions) => Promise<ResultLike>;

const NO_PROGRESS: ExecutorProgress = { rowsScanned() {}, busy() {} };

export interface SchedulerOptions {
  timeoutMs: number;
  interactiveSlots: number;
  heavySlots: number;
  maxQueued: number;
  /**
   * Queries whose time range touches more rows than this go to the heavy lane. The default
   * (8M) keeps a one-day dashboard query over a 30-day, 100M-event table interactive (~3.3M
   * rows, tens of ms of scanning), so it also preempts heavy scans in the worker pool.
   */
  heavyRows: number;
  /** On shutdown, running queries get this long to finish before they are aborted. */
  shutdownGraceMs: number;
  /**
   * Queries touching at most this many rows run on the inline executor (the main thread) when
   * there is one, so they never queue behind a heavy query's tasks on the worker pool.
   */
  inlineRows: number;
  /**
   * Longest a background slice waits for interactive queries to finish (`backgroundTurn`), so a
   * steady stream of small queries slows an ingest down but never stalls it.
   */
  backgroundMaxDeferMs: number;
}

export const DEFAULT_SCHEDULER_OPTIONS: SchedulerOptions = {
  timeoutMs: 30_000,
  interactiveSlots: 4,
  heavySlots: 1,
  maxQueued: 64,
  heavyRows: 8_000_000,
  shutdownGraceMs: 10_000,
  inlineRows: 500_000,
  backgroundMaxDeferMs: 50,
};

export interface LaneStats {
  lane: string;
  running: number;
  queued: number;
}

class Lane {
  running = 0;
  readonly waiting: { start: () => void; fail: (e: unknown) => void }[] = [];
  constructor(readonly name: string, readonly slots: number, readonly maxQueued: number) {}

  async acquire(signal: AbortSignal): Promise<void> {
    if (this.running < this.slots) {
      this.running++;
      return;
    }
    if (this.waiting.length >= this.maxQueued) throw new ShoalError('OVERLOADED', [`${this.name} lane`]);
    await new Promise<void>((resolve, reject) => {
      const entry = { start: resolve, fail: reject };
      this.waiting.push(entry);
      signal.addEventListener('abort', () => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) {
          this.waiting.splice(i, 1);
          reject(signal.reason);
        }
      }, { once: true });
    });
  }

  release(): void {
    const next = this.waiting.shift();
    if (next !== undefined) next.start();
    else this.running--;
  }
}

/**
 * Rows of the snapshot whose sources overlap the query's [from, to), the bounds read as the
 * engine reads them (a digit string is epoch ms; ISO without an offset is UTC, never local time).
 */
export function estimateRows(snapshot: TableSnapshot, query: unknown): number {
  const q = (query ?? {}) as { from?: unknown; to?: unknown };
  const bound = (v: unknown, fallback: number): number => {
    const ms = parseTimeBound(v);
    return Number.isNaN(ms) ? fallback : ms;
  };
  const from = bound(q.from, -Infinity);
  const to = bound(q.to, Infinity);
  let rows = 0;
  for (const shard of snapshot.shards) {
    for (const s of shard.sources) if (!(s.maxTimeMs < from || s.minTimeMs >= to)) rows += s.rowCount;
  }
  return rows;
}

export class QueryScheduler {
  private readonly interactive: Lane;
  private readonly heavy: Lane;
  private readonly running = new Set<Promise<unknown>>();
  private readonly controllers = new Set<AbortController>();
  private closing = false;
  /** Interactive queries executing (slot taken, not finished). */
  private interactiveRunning = 0;
  /** Background turns waiting for `interactiveRunning` to reach 0. */
  private quietWaiters: (() => void)[] = [];
  /** Seconds background turns have waited for interactive queries, in all. */
  backgroundDeferredSeconds = 0;

  constructor(
    private readonly store: Store,
    private readonly executor: Executor,
    readonly options: SchedulerOptions = DEFAULT_SCHEDULER_OPTIONS,
    /** Runs small queries (see `inlineRows`) instead of `executor`, when given. */
    private readonly inlineExecutor?: Executor,
  ) {
    this.interactive = new Lane('interactive', options.interactiveSlots, options.maxQueued);
    this.heavy = new Lane('heavy', options.heavySlots, options.maxQueued);
  }

  /** Running and queued queries per lane. */
  laneStats(): LaneStats[] {
    return [this.interactive, this.heavy].map((l) => ({ lane: l.name, running: l.running, queued: l.waiting.length }));
  }

  /** Runs a query; `clientSignal` aborts it (e.g. when the HTTP client disconnects). */
  async run(query: unknown, clientSignal?: AbortSignal, progress: ExecutorProgress = NO_PROGRESS): Promise<ResultLike & { lane: string }> {
    if (this.closing) throw new ShoalError('SHUTTING_DOWN');
    const table = (query as { table?: unknown } | null)?.table;
    if (typeof table !== 'string') throw new ShoalError('BAD_QUERY', ['"table" is required'], 'table');
    const snapshot = this.store.get(table).snapshot();
    const controller = new AbortController();
    this.controllers.add(controller);
    const abort = (reason: unknown): void => controller.abort(reason);
    const onClient = (): void => abort(new ShoalError('QUERY_CANCELLED', ['the client disconnected']));
    clientSignal?.addEventListener('abort', onClient, { once: true });
    const timer = setTimeout(() => abort(new ShoalError('QUERY_TIMEOUT', [this.options.timeoutMs])), this.options.timeoutMs);
    const rows = estimateRows(snapshot, query);
    const lane = rows > this.options.heavyRows ? this.heavy : this.interactive;
    const execute = this.inlineExecutor !== undefined && rows <= this.options.inlineRows ? this.inlineExecutor : this.executor;
    const work = (async () => {
      try {
        await lane.acquire(controller.signal);
        const interactive = lane === this.interactive;
        if (interactive) this.interactiveRunning++;
        try {
          controller.signal.throwIfAborted();
          return { ...(await execute(snapshot, query, controller.signal, progress, { urgent: interactive })), lane: lane.name };
        } finally {
          lane.release();
          if (interactive && --this.interactiveRunning === 0) this.wakeBackground();
        }
      } finally {
        clearTimeout(timer);
        this.controllers.delete(controller);
        clientSignal?.removeEventListener('abort', onClient);
        snapshot.release();
      }
    })();
    this.running.add(work);
    work.then(() => this.running.delete(work), () => this.running.delete(work));
    return work;
  }

  /**
   * Awaited by background work on the main thread between its slices: one event-loop turn (I/O
   * callbacks, such as a query arriving, run first), then, while interactive queries execute,
   * until none does or `backgroundMaxDeferMs` has passed. A small query thus waits for at most
   * the slice running when it arrives, plus one slice per `backgroundMaxDeferMs` of its run.
   */
  async backgroundTurn(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (this.interactiveRunning === 0) return;
    const startedMs = performance.now();
    await new Promise<void>((resolve) => {
      const waiter = (): void => {
        clearTimeout(timer);
        resolve();
      };
      // Timed out: leave the list, or waiters pile up while interactive queries keep overlapping.
      const timer = setTimeout(() => {
        const i = this.quietWaiters.indexOf(waiter);
        if (i >= 0) this.quietWaiters.splice(i, 1);
        resolve();
      }, this.options.backgroundMaxDeferMs);
      this.quietWaiters.push(waiter);
    });
    this.backgroundDeferredSeconds += (performance.now() - startedMs) / 1000;
  }

  /** Background turns waiting now for interactive queries to finish (tests, diagnostics). */
  get backgroundWaiting(): number {
    return this.quietWaiters.length;
  }

  private wakeBackground(): void {
    const waiters = this.quietWaiters;
    this.quietWaiters = [];
    for (const w of waiters) w();
  }

  /**
   * Refuses new queries and waits for running ones; those still running after
   * `shutdownGraceMs` are aborted with SHUTTING_DOWN.
   */
  async drain(graceMs = this.options.shutdownGraceMs): Promise<void> {
    this.closing = true;
    const settled = Promise.allSettled([...this.running]);
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([settled, grace]);
    clearTimeout(timer);
    for (const c of this.controllers) c.abort(new ShoalError('SHUTTING_DOWN'));
    await settled;
  }
}
