/**
 * Fixture for workers.test.ts, run in a process of its own: closes a parse pool whose worker's
 * reply is already on its way, and prints "closed" once close() has settled. The reply reaches
 * this thread only after close() began (the thread is kept busy until then), while the worker
 * still takes two seconds to stop (late-reply-worker.ts).
 */
import { WorkerPool } from '../../ingest/worker-pool.js';
import { workerScript } from '../../ingest/worker-url.js';

const pool = new WorkerPool(1, { script: workerScript(import.meta.url, 'late-reply-worker') });
const ctx = { format: 'ndjson' as const, options: { actorColumn: 'user_id', timeColumn: 'time', maxLineBytes: 1 << 20 }, csv: null };
pool.run(new Uint8Array(1), null, ctx, 1).catch(() => {});
// Busy (no event loop turn) while the worker starts and replies: its reply waits in the queue.
const until = Date.now() + 1000;
while (Date.now() < until);
void pool.close().then(() => process.stdout.write('closed\n'));
