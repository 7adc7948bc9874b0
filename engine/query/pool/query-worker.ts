/**
 * A query worker's entry module. Each `run` request names some shards this worker owns; the
 * worker applies the request's deltas to its mirrors, rebuilds each shard's snapshot, runs
 * `runShardPartials` on them (the engine's own dispatch, so every plan kind runs here
 * unchanged), and posts the partials back: one per shard, or one for all of them when the plan's
 * states merge exactly in a single scan (no float sums, nothing keyed by per-shard actor ids).
 * It does not merge per-shard partials: the main thread merges all shards in one pass, as
 * runQuery does (a merge here would be a second pass over the groups, which costs more than it
 * saves when groups are many, e.g. keyed by actor, and would reorder float sums).
 *
 * Cancellation: the main thread sets a flag in a SharedArrayBuffer; the scan polls it through
 * an AbortSignal-like object between row groups (and the worker checks it between shards), so
 * a cancelled query stops within one row group. Memory: the bytes of partials a query holds
 * are summed across workers in the same buffer and checked against the query's budget.
 *
 * Urgent tasks (interactive queries): the pool counts each one it posts in a shared `urgent`
 * counter. A long scan checks the counter where it polls for cancellation (FlagSignal: between
 * row groups, and every 1,024 actors in behavioral scans) and, when it is set, takes the
 * waiting messages off the port synchronously: every task's deltas are applied at once, in arrival order (the mirrors must
 * follow the main thread's order), urgent tasks run right there, nested in the scan, and the
 * rest wait in a backlog run after the current task, in arrival order. So a dashboard query
 * waits for one row group of a heavy group-by, not for the whole of it. Only non-urgent scans
 * yield: urgent tasks run one after another in arrival order (nesting them would serve the
 * newest first and starve older ones under load). A tail a task drops stays mirrored until no
 * task received before it is running or waiting, and a nested task closes no segment (an outer
 * or waiting task may still read them).
 *
 * Threading: tasks run synchronously, in arrival order, except urgent ones, which may run
 * inside another task's scan.
 */
import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { ShoalError } from '../../errors.js';
import { runShardPartials } from '../index.js';
import { sampledShard } from '../sample.js';
import { WorkerState } from './worker-state.js';
import { toWire, type RunRequest, type WorkerReply, type WorkerRequest } from './wire.js';

const CANCELLED = new Error('cancelled');
/** How often a running task reports rows read (progress for metrics). */
const PROGRESS_EVERY_MS = 25;

/**
 * The subset of AbortSignal that scans use, backed by a shared flag. It doubles as the yield
 * point for urgent tasks: scans poll it between row groups (aggregates, samples, behavioral
 * streams) and every 1,024 actors (behavioral), where they hold only their own state.
 */
class FlagSignal {
  constructor(private readonly flag: Int32Array) {}
  get aborted(): boolean {
    return Atomics.load(this.flag, 0) !== 0;
  }
  get reason(): unknown {
    return CANCELLED;
  }
  throwIfAborted(): void {
    yieldPoint();
    if (Atomics.load(this.flag, 0) !== 0) throw CANCELLED;
  }
  addEventListener(): void {}
  removeEventListener(): void {}
}

const { blockCacheBytes, urgentFlag } = workerData as { blockCacheBytes: number; urgentFlag?: SharedArrayBuffer };
const state = new WorkerState(blockCacheBytes);
const port = parentPort!;
/** Urgent tasks posted and not yet started (the pool adds, this worker subtracts). */
const urgent = urgentFlag === undefined ? null : new Int32Array(urgentFlag, 0, 1);
/** Tasks running now: 1 for a task, more while urgent ones run nested inside it. */
let depth = 0;
/** Urgent tasks running now: while one runs, others wait their turn (in arrival order, not nested). */
let urgentRunning = 0;
/** Messages taken off the port during a task, to handle after it, in arrival order. */
const backlog: WorkerRequest[] = [];
/** Run requests numbered in arrival order; the numbers of those running (outermost first). */
let lastSeq = 0;
const seqOf = new WeakMap<RunRequest, number>();
const runningSeqs: number[] = [];

/** Between row groups of a scan: runs urgent tasks that are waiting, keeps the rest for later. */
function yieldPoint(): void {
  if (urgent === null || urgentRunning > 0 || Atomics.load(urgent, 0) <= 0) return;
  for (let m = receiveMessageOnPort(port); m !== undefined; m = receiveMessageOnPort(port)) accept(m.message as WorkerRequest);
}

function post(reply: WorkerReply): void {
  port.postMessage(reply);
}

/** Applies a task's deltas; on mirrors out of step, reports and exits (the pool replaces this worker). */
function sync(req: RunRequest): void {
  const seq = ++lastSeq;
  seqOf.set(req, seq);
  try {
    for (const t of req.shards) state.sync(t, seq);
  } catch (err) {
    // Mirrors out of step with the main thread's record: start over as a fresh worker.
    post({ type: 'error', id: req.id, error: toWire(err), cancelled: false, rowsRead: 0, busyMs: 0, cacheBytes: state.cache.bytes });
    process.exit(70);
  }
}

/** A message in arrival order: deltas now; the task now when idle or urgent, else after the current one. */
function accept(msg: WorkerRequest): void {
  if (msg.type !== 'run') {
    if (depth === 0) state.forget(msg.dictIds);
    else backlog.push(msg);
    return;
  }
  sync(msg);
  if (depth > 0 && !msg.urgent) {
    backlog.push(msg);
    return;
  }
  run(msg);
  if (depth > 0) return;
  for (let next = backlog.shift(); next !== undefined; next = backlog.shift()) {
    if (next.type === 'run') run(next);
    else state.forget(next.dictIds);
  }
}

/** Frees the dropped tails that no running or waiting task received before the drop can need. */
function releaseDrops(): void {
  let oldest = runningSeqs.length > 0 ? runningSeqs[0] : Infinity;
  for (const m of backlog) if (m.type === 'run') oldest = Math.min(oldest, seqOf.get(m) ?? Infinity);
  state.releaseDrops(oldest);
}

function run(req: RunRequest): void {
  if (req.urgent && urgent !== null) Atomics.sub(urgent, 0, 1);
  depth++;
  if (req.urgent) urgentRunning++;
  const seq = seqOf.get(req)!;
  runningSeqs.push(seq);
  try {
    runTask(req);
  } finally {
    depth--;
    if (req.urgent) urgentRunning--;
    runningSeqs.splice(runningSeqs.indexOf(seq), 1);
    releaseDrops();
  }
}

function runTask(req: RunRequest): void {
  const started = performance.now();
  const flag = new Int32Array(req.flags, 0, 1);
  const held = new BigInt64Array(req.flags, 8, 1);
  const signal = new FlagSignal(flag);
  let rowsRead = 0;
  let unreported = 0;
  let lastReport = started;
  const onRows = (rows: number): void => {
    rowsRead += rows;
    unreported += rows;
    const now = performance.now();
    if (now - lastReport >= PROGRESS_EVERY_MS) {
      post({ type: 'progress', id: req.id, rows: unreported });
      unreported = 0;
      lastReport = now;
    }
  };
  const totals = () => ({ rowsRead, busyMs: performance.now() - started, cacheBytes: state.cache.bytes });
  try {
    signal.throwIfAborted();
    const shards = req.shards.map((t) => sampledShard(state.shard(t, onRows, req.id, depth === 1), t.threshold));
    const partials = runShardPartials(shards, req.plan, { signal: signal as unknown as AbortSignal }, (partial) => {
      // The budget is per query: partials of every shard, in every worker, count together.
      const bytes = (partial as { memoryBytes?: number }).memoryBytes ?? 0;
      const total = Atomics.add(held, 0, BigInt(bytes)) + BigInt(bytes);
      if (total > BigInt(req.memoryBudgetBytes)) {
        throw new ShoalError('QUERY_MEMORY_EXCEEDED', [req.memoryBudgetBytes, `~${total} bytes of partial results across shards`]);
      }
    });
    if (unreported > 0) post({ type: 'progress', id: req.id, rows: unreported });
    post({ type: 'done', id: req.id, partials, ...totals() });
  } catch (err) {
    if (unreported > 0) post({ type: 'progress', id: req.id, rows: unreported });
    const cancelled = err === CANCELLED;
    post({ type: 'error', id: req.id, error: toWire(err), cancelled, ...totals() });
  }
}

port.on('message', accept);
