/**
 * The flush worker as seen from the main thread: `flushShard` hands one shard's frozen tail
 * rows to a worker thread (flush-worker.ts), which sorts them and writes and fsyncs one segment
 * file per time partition, and resolves with the segments' footers; `mergeSegments` has a worker
 * read, merge and rewrite segments for compaction. Decoding, sorting and encoding are most of a
 * flush's or compaction's CPU; off the main thread they no longer hold up ingest commits.
 *
 * Protocol (per worker, messages in order): `dicts` (string dictionaries, each sent once per
 * flush and worker, since a generation's tails share them), `shard` requests, then `end`;
 * `merge` requests need no dictionaries (the worker decodes the segments' own).
 * Up to FLUSH_WORKERS workers take shards at once (the least busy one gets the next shard).
 * Rows are not copied: tail arrays are SharedArrayBuffer-backed (tail.ts), so the worker reads
 * the frozen rows in place while snapshots on this thread keep reading them too (neither writes).
 * Segment file numbers are reserved by the caller (`firstSeq`, `seqCount`), so names never clash.
 * Fault injection (file-io.ts's disk budget) is handed to the worker with each request and the
 * bytes it used are taken off this thread's budget, so tests of a full disk cover flushes too.
 *
 * Threading: main thread. Workers are started on first use, kept for the process and unref'd
 * while idle, so they never hold the process open. If one dies, its pending shards fail (the
 * frozen tails stay, the next flush retries) and the next flush starts a new worker.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { workerEntryUrl } from '../query/pool/worker-script.js';
import { CorruptDataError, ShoalError, type ErrorCode } from '../errors.js';
import { getDiskBudget, setDiskBudget } from './file-io.js';
import { packStrings, type PackedStrings } from './packed-strings.js';
import type { SegmentFooter } from './segment-format.js';
import type { RowSet } from './tail.js';
import type { StoredType } from './typed-column.js';

interface WireColumn {
  name: string;
  type: StoredType;
  values: Float64Array | Uint8Array | Uint32Array;
  validity: Uint8Array | null;
  /** String columns: the id of their dictionary, sent earlier in a `dicts` message. */
  dictId: number | null;
}

export type FlushRequest =
  | { kind: 'dicts'; flushId: number; dicts: [number, string[] | PackedStrings][] }
  | { kind: 'end'; flushId: number }
  | ({
      kind: 'shard';
      id: number;
      flushId: number;
      rows: { rowCount: number; actorIds: Uint32Array; times: Float64Array; columns: WireColumn[] };
      diskBudgetBytes: number;
    } & Placement)
  | ({ kind: 'merge'; id: number; inputs: MergeInput[]; schema: [string, StoredType][]; fullSearch: boolean; diskBudgetBytes: number } & Placement);

/** Where a task's segments go: the shard, generation range and reserved file numbers. */
export interface Placement {
  segmentsDir: string;
  shard: number;
  genMin: number;
  genMax: number;
  firstSeq: number;
  seqCount: number;
}

/** A segment a merge reads: its file, and the footer and size this process already holds. */
export interface MergeInput {
  path: string;
  footer: SegmentFooter;
  bytes: number;
}

/** A segment a task wrote. */
export interface WrittenSegment {
  file: string;
  footer: SegmentFooter;
  bytes: number;
}

export type FlushReply =
  | { id: number; ok: true; segments: WrittenSegment[]; usedBytes: number }
  | { id: number; ok: false; error: WireError; usedBytes: number };

/** An error from a worker; `file` names the damaged file of a CorruptDataError, `detail` what is wrong with it. */
export interface WireError {
  name: string;
  code: string | null;
  message: string;
  file: string | null;
  detail?: string;
}

interface Pending {
  resolve: (r: FlushReply) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
}

/** Flush workers at most: two share a 2-core machine's work when a flush runs alone (at close). */
export const FLUSH_WORKERS = Math.min(2, Math.max(1, availableParallelism()));
const slots: (Slot | null)[] = new Array(FLUSH_WORKERS).fill(null);
let nextId = 1;
let nextFlushId = 1;

/** Nice levels added to flush threads started from now on (set by the server; 0: the process's). */
let flushNiceness = 0;

/**
 * Runs flush threads started from now on `niceness` levels (0..19) below the process, so a
 * server's queries and ingest commits win the CPU while a flush runs (Linux: per-thread
 * setpriority; elsewhere a no-op).
 */
export function lowerFlushThreadPriority(niceness: number): void {
  flushNiceness = niceness;
}

/** The flush worker's entry, behind a tiny module that first lowers the thread's priority when asked. */
function flushWorkerUrl(): URL {
  const entry = workerEntryUrl(import.meta.url, 'flush-worker');
  if (flushNiceness <= 0) return entry;
  const boot =
    "import { readlinkSync } from 'node:fs'; import { getPriority, setPriority } from 'node:os';" +
    `try { const tid = Number(readlinkSync('/proc/thread-self').split('/').pop()); setPriority(tid, Math.min(19, getPriority(tid) + ${flushNiceness})); } catch {}` +
    `await import(${JSON.stringify(entry.href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(boot)}`);
}

function startSlot(index: number): Slot {
  const w = new Worker(flushWorkerUrl());
  const slot: Slot = { worker: w, pending: new Map() };
  w.on('message', (reply: FlushReply) => {
    const p = slot.pending.get(reply.id);
    if (p === undefined) return;
    slot.pending.delete(reply.id);
    if (slot.pending.size === 0) w.unref();
    p.resolve(reply);
  });
  const gone = (err: Error): void => {
    if (slots[index] === slot) slots[index] = null;
    for (const p of slot.pending.values()) p.reject(err);
    slot.pending.clear();
  };
  w.on('error', (err) => gone(err));
  w.on('exit', (code) => gone(new Error(`flush worker exited with code ${code}`)));
  // After the listeners: a Worker's first 'message' listener refs its port, so a worker started
  // but never given a task (pickSlot starts them all) would hold the process open.
  w.unref();
  slots[index] = slot;
  return slot;
}

/** The least busy worker, started if need be. */
function pickSlot(): Slot {
  let best: Slot | null = null;
  for (let i = 0; i < slots.length; i++) {
    const slot = slots[i] ?? startSlot(i);
    if (best === null || slot.pending.size < best.pending.size) best = slot;
  }
  return best!;
}

/** Partitions a shard's rows can fall in at most (day numbers between its first and last time). */
export function partitionSpan(times: Float64Array, partitionMs: number): number {
  if (times.length === 0) return 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < times.length; i++) {
    const t = times[i];
    if (t < min) min = t;
    if (t > max) max = t;
  }
  return Math.floor(max / partitionMs) - Math.floor(min / partitionMs) + 1;
}

/**
 * Dictionaries with more strings than this go to the workers packed (packed-strings.ts): one
 * string to clone rather than each of them, which a worker then holds and its collections walk
 * one by one. A 10M-event load's session ids (~840k strings) cost each flush worker ~180 ms of
 * young-generation copying on arrival and ~40 ms in each of its full collections.
 */
const PACK_MIN_STRINGS = 4096;

/** One flush's session with the workers: each dictionary is sent once per worker, and dropped by `end`. */
export class FlushSession {
  readonly flushId = nextFlushId++;
  private readonly sent = new Map<Worker, Map<string[], number>>();
  /** Large dictionaries packed once per flush, for every worker. */
  private readonly packed = new Map<string[], PackedStrings>();

  /** Sorts and writes one shard's rows on a worker; resolves with each segment written. */
  async flushShard(rows: RowSet, place: Placement): Promise<WrittenSegment[]> {
    const slot = pickSlot();
    const w = slot.worker;
    let sent = this.sent.get(w);
    if (sent === undefined) this.sent.set(w, (sent = new Map()));
    const fresh: [number, string[] | PackedStrings][] = [];
    for (const c of rows.columns) {
      if (c.dict === undefined || sent.has(c.dict)) continue;
      sent.set(c.dict, sent.size);
      fresh.push([sent.size - 1, c.dict.length > PACK_MIN_STRINGS ? this.packedOf(c.dict) : c.dict]);
    }
    if (fresh.length > 0) w.postMessage({ kind: 'dicts', flushId: this.flushId, dicts: fresh } satisfies FlushRequest);
    const n = rows.rowCount;
    // Views of the frozen tail: shared (not copied) when SharedArrayBuffer-backed, as tails are;
    // the worker only reads them, and the tail never changes once frozen.
    const view = <T extends Float64Array | Uint8Array | Uint32Array>(a: T, len: number): T => a.subarray(0, len) as T;
    const columns: WireColumn[] = rows.columns.map((c) => ({
      name: c.name,
      type: c.type,
      values: view(c.values, n),
      validity: c.validity === null ? null : view(c.validity, (n + 7) >> 3),
      dictId: c.dict === undefined ? null : sent.get(c.dict)!,
    }));
    return ask(slot, {
      kind: 'shard',
      id: nextId++,
      flushId: this.flushId,
      ...place,
      rows: { rowCount: n, actorIds: view(rows.actorIds, n), times: view(rows.times, n), columns },
      diskBudgetBytes: getDiskBudget(),
    });
  }

  private packedOf(dict: string[]): PackedStrings {
    let p = this.packed.get(dict);
    if (p === undefined) this.packed.set(dict, (p = packStrings(dict)));
    return p;
  }

  /** Lets the workers drop this flush's dictionaries. */
  end(): void {
    for (const w of this.sent.keys()) {
      try {
        w.postMessage({ kind: 'end', flushId: this.flushId } satisfies FlushRequest);
      } catch {
        // a worker that died holds nothing any more
      }
    }
  }
}

/**
 * Merges segments of one shard and partition on a worker (compaction): the worker reads them,
 * concatenates their rows oldest first, sorts and writes the result, with the full encoding
 * search on every block when `fullSearch`, else with the worker's sticky choices as a flush
 * (see choice.ts). Resolves with what it wrote.
 */
export function mergeSegments(inputs: MergeInput[], schema: ReadonlyMap<string, StoredType>, place: Placement, fullSearch: boolean): Promise<WrittenSegment[]> {
  return ask(pickSlot(), { kind: 'merge', id: nextId++, inputs, schema: [...schema], fullSearch, ...place, diskBudgetBytes: getDiskBudget() });
}

/** Sends a task to `slot`'s worker; resolves with its segments, takes the disk it used off this thread's budget. */
async function ask(slot: Slot, msg: Extract<FlushRequest, { id: number }>): Promise<WrittenSegment[]> {
  const reply = await new Promise<FlushReply>((resolve, reject) => {
    slot.pending.set(msg.id, { resolve, reject });
    slot.worker.ref();
    slot.worker.postMessage(msg);
  });
  if (reply.usedBytes > 0) setDiskBudget(Math.max(0, getDiskBudget() - reply.usedBytes));
  if (!reply.ok) throw rebuildError(reply.error);
  return reply.segments;
}

/** The worker's error as this thread's: catalog errors keep their code and message. */
function rebuildError(e: WireError): Error {
  if (e.name === 'CorruptDataError' && e.file !== null) {
    const err = new CorruptDataError(e.file, e.detail ?? '');
    err.message = e.message;
    return err;
  }
  if (e.name === 'ShoalError' && e.code !== null) {
    const err = new ShoalError(e.code as ErrorCode, []);
    err.message = e.message;
    return err;
  }
  return new Error(`flush worker: ${e.message}`);
}
