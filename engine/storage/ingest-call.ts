/**
 * One ingest call made ready for group commit: its batches split into shard parts (schema on
 * write, actor ids; split-batch.ts), its rejected lines and type conflicts as dead letters, its
 * result, and one WAL record per part, all written into one pooled buffer (wal-record.ts).
 * With `pace`, the work yields after each batch and about every PACE_ROWS rows of records.
 *
 * Threading: main thread only; a table encodes one call at a time, in call order (table.ts), so
 * actor ids and column types are assigned in the order the WAL replays them.
 */
import type { EventBatch } from '../../ingest/batch.js';
import { ShoalError } from '../errors.js';
import { ingestBuffers } from './buffer-pool.js';
import { formatDeadLetter, type DeadLetterEntry } from './dead-letter.js';
import type { PendingCommit } from './group-commit.js';
import { splitBatch, type SplitContext } from './split-batch.js';
import type { IngestOptions, IngestResult } from './table-options.js';
import type { StoredType } from './typed-column.js';
import { maxWalRecordBytes } from './wal.js';
import { planShardRecord, type RecordPlan, type ShardPart } from './wal-record.js';

const MAX_REPORTED_ERRORS = 100;
/**
 * Rows of WAL records encoded (or tail rows appended) between two `pace` calls: a few ms of
 * main-thread work, the longest a server's small query waits for a paced ingest (a `pace` call
 * itself costs microseconds).
 */
export const PACE_ROWS = 8_192;

/** What encoding a call needs from its table. */
export interface CallContext {
  /** The table's schema (grown by the split) and its column limit. */
  schema: { types: Map<string, StoredType>; maxColumns: number };
  shardCount: number;
  split: SplitContext;
  actorColumn: string;
  timeColumn: string;
  /** The call's transaction id, taken once its batches are split. */
  takeBatchId: () => number;
}

/** A call encoded: its commit (without the callbacks) and the result it acknowledges. */
export interface EncodedCall {
  pending: Omit<PendingCommit, 'seq' | 'resolve' | 'reject'>;
  result: IngestResult;
}

/** Splits and encodes a call's batches (see the header); an `unlogged` call gets no WAL records. */
export async function encodeCall(batches: EventBatch[], ctx: CallContext, opts: IngestOptions): Promise<EncodedCall> {
  const { idempotencyKey: key, pace } = opts;
  const source = opts.source ?? 'input';
  const splitParts: Omit<ShardPart, 'batchId' | 'parts'>[] = [];
  const partBuffers: ArrayBuffer[] = [];
  const deadLetters: DeadLetterEntry[] = [];
  const result: IngestResult = { accepted: 0, rejected: 0, typeErrors: 0, errors: [] };
  for (const batch of batches) {
    const split = splitBatch(batch, ctx.schema, ctx.shardCount, ctx.split, opts.unlogged === true);
    splitParts.push(...split.parts);
    partBuffers.push(split.buffer);
    for (const r of batch.rejects) deadLetters.push({ source, line: r.line, kind: 'rejected', reason: r.message, raw: r.raw });
    for (const c of split.conflicts) {
      deadLetters.push({ source, line: c.line, kind: 'type_conflict', reason: c.reason, raw: eventJson(batch, c.row, ctx) });
    }
    result.accepted += batch.count;
    result.rejected += batch.rejects.length;
    if (pace !== undefined) await pace();
  }
  for (const p of splitParts) for (const [, n] of p.typeErrors) result.typeErrors += n;
  result.errors = deadLetters
    .map((e) => ({ line: e.line, message: e.reason }))
    .sort((a, b) => a.line - b.line)
    .slice(0, MAX_REPORTED_ERRORS);
  // A keyed request with no accepted rows still needs a WAL record to make its key durable.
  if (key !== undefined && splitParts.length === 0) splitParts.push(emptyPart(0));
  const batchId = ctx.takeBatchId();
  const parts: ShardPart[] = splitParts.map((p) => ({ ...p, batchId, parts: splitParts.length }));
  if (key !== undefined) parts[0].idempotency = { key, atMs: Date.now(), result: summary(result) };
  // Every record of the call goes into one pooled buffer: measured first, then written.
  const plans: RecordPlan[] = [];
  let recordBytes = 0;
  let encodedRows = 0;
  for (const p of opts.unlogged === true ? [] : parts) {
    const plan = planShardRecord(p);
    // Replay takes a longer record for garbage: it, and everything after it, would be lost.
    if (plan.bytes > maxWalRecordBytes()) {
      throw new ShoalError('BAD_REQUEST', [`the call's rows for one shard make a ${plan.bytes}-byte WAL record, over the ${maxWalRecordBytes()}-byte limit; ingest them in smaller batches`]);
    }
    plans.push(plan);
    recordBytes += (plan.bytes + 7) & ~7; // each record starts 8-byte aligned (typed sections)
    encodedRows += p.rowCount;
    if (pace !== undefined && encodedRows >= PACE_ROWS) {
      encodedRows = 0;
      await pace();
    }
  }
  const recordBuffer = ingestBuffers.acquire(recordBytes);
  const records: PendingCommit['records'] = [];
  let at = 0;
  for (let k = 0; k < plans.length; k++) {
    const bytes = new Uint8Array(recordBuffer, at, plans[k].bytes);
    plans[k].write(bytes);
    records.push({ shard: parts[k].shard, bytes });
    at += (plans[k].bytes + 7) & ~7;
    encodedRows += parts[k].rowCount;
    if (pace !== undefined && encodedRows >= PACE_ROWS) {
      encodedRows = 0;
      await pace();
    }
  }
  const now = Date.now();
  return {
    pending: {
      records,
      recordBuffer,
      parts,
      partBuffers,
      deadLetterText: deadLetters.map((e) => formatDeadLetter(e, now)).join(''),
      deadLetterCount: deadLetters.length,
      unlogged: opts.unlogged === true,
      pace,
    },
    result,
  };
}

function emptyPart(shard: number): Omit<ShardPart, 'batchId' | 'parts'> {
  return { shard, rowCount: 0, times: new Float64Array(0), actorValues: [], actorCodes: new Uint32Array(0), columns: [], typeErrors: [] };
}

/** The result as an idempotency entry keeps it (the first 10 errors). */
function summary(r: IngestResult): IngestResult {
  return { accepted: r.accepted, rejected: r.rejected, typeErrors: r.typeErrors, errors: r.errors.slice(0, 10) };
}

/** The event at `row` as flattened JSON, for the dead-letter log. */
function eventJson(batch: EventBatch, row: number, ctx: CallContext): string {
  const entries: [string, unknown][] = [
    [ctx.actorColumn, batch.actors[row]],
    [ctx.timeColumn, new Date(batch.timeMs[row]).toISOString()],
  ];
  for (const [name, values] of batch.columns) if (values[row] !== null && values[row] !== undefined) entries.push([name, values[row]]);
  // A Map keeps keys like "__proto__" as ordinary keys; build the JSON text by hand.
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
}
