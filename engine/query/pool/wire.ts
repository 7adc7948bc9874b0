/**
 * Messages between the query pool (main thread) and its workers. Everything here survives
 * structured clone: plans, partials, typed-array slices of tails, plain error records.
 *
 * A shard travels as a descriptor, not as data: its segments by file path (the worker opens
 * and caches them itself), its in-memory tails by id plus the rows the worker has not seen
 * yet, its actor dictionary by id plus the values the worker has not seen yet. The main thread
 * tracks what each worker holds (mirror-sync.ts), so a repeated query sends almost nothing.
 */
import { CorruptDataError, ShoalError, type ErrorCode } from '../../errors.js';
import type { Scalar } from '../../types.js';
import type { StoredType, TypedValues } from '../../storage/typed-column.js';
import type { Partial as PartialResult } from '../partial.js';
import type { Plan } from '../plan.js';
import type { ActorFile } from '../source.js';

export type SourceDesc = { kind: 'segment'; path: string } | { kind: 'tail'; tailId: number; rows: number };

/** New rows [from, to) of one tail column (validity bytes start at byte from >> 3). */
export interface ColumnDelta {
  name: string;
  type: StoredType;
  values: TypedValues;
  validity: Uint8Array;
  /** Dictionary entries from index `dictFrom` on (string columns). */
  dictFrom: number;
  dict: string[];
}

/** Rows [from, to) of a tail the worker has not seen yet. */
export interface TailDelta {
  tailId: number;
  shard: number;
  generation: number;
  from: number;
  to: number;
  actorIds: Uint32Array;
  times: Float64Array;
  columns: ColumnDelta[];
}

export interface ShardTask {
  shard: number;
  /** The shard's actor dictionary (one per table instance and shard). */
  dictId: number;
  actorCount: number;
  /**
   * In the first task for the dictionary only: the file holding the values of ids below
   * `actorFile.count` (= this task's `actorFrom`), read by the worker when first needed; null
   * when the values come in messages from id 0.
   */
  actorFile: ActorFile | null;
  /** Actor values for ids actorFrom … actorFrom + actorValues.length − 1. */
  actorFrom: number;
  actorValues: Scalar[];
  /** Sample threshold of the shard (1: every actor; see sample.ts). */
  threshold: number;
  sources: SourceDesc[];
  tailDeltas: TailDelta[];
  /** Tails of this shard the worker may forget (flushed since). */
  dropTails: number[];
}

export interface RunRequest {
  type: 'run';
  id: number;
  plan: Plan;
  maxGroups: number;
  memoryBudgetBytes: number;
  /** Int32 [0]: cancel flag; BigInt64 at byte 8: bytes of partials held by the query. */
  flags: SharedArrayBuffer;
  shards: ShardTask[];
  /**
   * An interactive query's task: a worker busy with a long scan runs it where that scan polls
   * for cancellation instead of after it (the pool also counts it in the worker's urgent flag).
   */
  urgent: boolean;
}

export interface ForgetRequest {
  type: 'forget';
  dictIds: number[];
}

export type WorkerRequest = RunRequest | ForgetRequest;

export interface WireError {
  name: string;
  message: string;
  code?: ErrorCode;
  path?: string;
  file?: string;
  /** A CorruptDataError's detail. */
  detail?: string;
}

export interface TaskTotals {
  /** Rows of the row groups this task read (before filtering). */
  rowsRead: number;
  busyMs: number;
  cacheBytes: number;
}

export type WorkerReply =
  | { type: 'progress'; id: number; rows: number }
  | ({ type: 'done'; id: number; partials: PartialResult[] } & TaskTotals)
  | ({ type: 'error'; id: number; error: WireError; cancelled: boolean } & TaskTotals);

export const FLAG_BYTES = 16;

/** Flattens an error for postMessage, keeping the catalog code, path and file. */
export function toWire(err: unknown): WireError {
  if (err instanceof ShoalError) {
    const out: WireError = { name: err.name, message: err.message, code: err.code };
    if (err.path !== undefined) out.path = err.path;
    if (err instanceof CorruptDataError) {
      out.file = err.file;
      out.detail = err.detail;
    }
    return out;
  }
  const e = err as Error | undefined;
  return { name: e?.name ?? 'Error', message: e?.message ?? String(err) };
}

/** Rebuilds a worker's error on the main thread: same code, message, path and file. */
export function fromWire(w: WireError): ShoalError {
  if (w.code === undefined) return new ShoalError('INTERNAL', [`query worker: ${w.name}: ${w.message}`]);
  const err = w.code === 'CORRUPT_DATA' && w.file !== undefined ? new CorruptDataError(w.file, w.detail ?? '') : new ShoalError(w.code, [], w.path);
  err.message = w.message;
  return err;
}
