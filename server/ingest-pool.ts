/**
 * The server's one parse worker pool, shared by every ingest request: started by the first
 * request that needs it (a server that only answers queries never starts it), reused after that
 * (no per-request start-up), and closed on shutdown once requests in flight are done. Every
 * chunk of every request is parsed there, never on the main thread, which keeps serving queries.
 *
 * Each request submits at most a few chunks ahead of the one it waits for (read-events.ts), and
 * the pool queues what its workers cannot take yet, oldest first, so concurrent requests share
 * the workers fairly and the queue is bounded by the requests in flight. The workers run at a
 * lower scheduling priority than the main thread (parse-worker-entry.ts).
 */
import { availableParallelism } from 'node:os';
import { ShoalError } from '../engine/index.js';
import { workerScript } from '../ingest/index.js';
import { WorkerPool } from '../ingest/worker-pool.js';

/** Chunks a parse worker holds at once (one parsing, one waiting), as the CLI's reader does. */
const CHUNKS_PER_WORKER = 2;

export class IngestPool {
  private pool: WorkerPool | null = null;
  private closed = false;

  /** @param workers parse worker threads (default: one per core) */
  constructor(private readonly workers = availableParallelism()) {}

  /** The pool, started on first use; SHUTTING_DOWN once closed. */
  get(): WorkerPool {
    if (this.closed) throw new ShoalError('SHUTTING_DOWN');
    // Parse threads run at a lower priority than the main thread (parse-worker-entry.ts).
    this.pool ??= new WorkerPool(this.workers, { maxPerWorker: CHUNKS_PER_WORKER, replaceDead: true, script: workerScript(import.meta.url, 'parse-worker-entry') });
    return this.pool;
  }

  /** Chunks waiting for a parse worker (0 before the pool starts). */
  get queuedChunks(): number {
    return this.pool?.queued ?? 0;
  }

  /** Stops the workers; later requests get SHUTTING_DOWN. */
  async close(): Promise<void> {
    this.closed = true;
    await this.pool?.close();
  }
}
