/**
 * Entry module of the server's parse worker threads: lowers this thread's scheduling priority,
 * then runs the ordinary parse worker (ingest/parse-worker.ts). Bulk parsing then gives way to
 * the main thread, which answers queries and commits ingests, whenever both want a core: the
 * workload isolation PRODUCT.md asks for, at no cost when the CPU is otherwise idle.
 *
 * Linux only (a thread's id from /proc/thread-self, then setpriority on it, which affects that
 * thread alone); elsewhere the workers keep the process's priority.
 */
import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** Nice levels added to the parse threads (0..19 scale; 5 gives the main thread ~3x their CPU share). */
const PARSE_NICENESS = 5;

try {
  const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  if (Number.isInteger(tid) && tid > 0) setPriority(tid, Math.min(19, getPriority(tid) + PARSE_NICENESS));
} catch {
  // No per-thread priority here: parse at the process's priority.
}

await import('../ingest/parse-worker.js');
