/**
 * Entry module of a parse worker thread: receives chunks (bytes shared or transferred, not
 * copied), parses them with parseTask, and posts back the batch in wire form; nothing parsed
 * keeps a view of a chunk (strings and values are copied), so the reply releases it.
 * One message at a time; per-thread parser state (fast-path layouts, string dictionaries) lives
 * for the worker's lifetime.
 */
import { parentPort } from 'node:worker_threads';
import { shelf } from './batch-buffers.js';
import { DictStreams, encodeBatch } from './batch-wire.js';
import { parseTask } from './parse-chunk.js';
import type { WorkerReply, WorkerRequest } from './worker-pool.js';

const port = parentPort;
if (port === null) throw new Error('parse-worker.ts must run in a worker thread');
/** This worker's stream dictionaries; the pool mirrors them per worker (batch-wire.ts). */
const streams = new DictStreams();

port.on('message', (msg: WorkerRequest) => {
  // Buffers of batches the reading thread is done with: this thread builds its next batches in them.
  if (msg.spare !== undefined) for (const ab of msg.spare) shelf.release(ab);
  let reply: WorkerReply;
  const transfer: ArrayBuffer[] = [];
  try {
    // Built against this worker's stream dictionaries, so encoding adds only their new strings.
    const batch = parseTask(msg.bytes, msg.items, msg.ctx, msg.firstLine, streams, msg.records);
    reply = { id: msg.id, batch: encodeBatch(batch, transfer, streams) };
  } catch (err) {
    reply = { id: msg.id, error: (err as Error).stack ?? String(err) };
  }
  port.postMessage(reply, transfer);
});
