/**
 * The durable half of a table's group commit: every queued call's WAL records are appended,
 * shard by shard, each touched WAL and the dead-letter log fsynced once, and a failure cuts every
 * touched WAL and the dead-letter log back to their sizes before the group.
 * Table.commitGroup then applies the durable group to the tails (`applyGroup`) and acknowledges
 * its calls.
 */
import { ingestBuffers } from './buffer-pool.js';
import type { DeadLetterLog } from './dead-letter.js';
import { PACE_ROWS } from './ingest-call.js';
import type { WalWriter } from './wal.js';
import type { ShardPart } from './wal-record.js';

/** One ingest call, split and encoded, waiting in a table's commit queue. */
export interface PendingCommit {
  /** The call's number (PendingColumns). */
  seq: number;
  records: { shard: number; bytes: Uint8Array }[];
  /** The pooled buffer the records view: released once they are written. */
  recordBuffer: ArrayBuffer;
  parts: ShardPart[];
  /** Pooled buffers the parts' arrays view: released once the parts are applied (or dropped). */
  partBuffers: ArrayBuffer[];
  deadLetterText: string;
  deadLetterCount: number;
  /** A bulk load's call: no WAL records; durable once a flush commits its rows. */
  unlogged: boolean;
  /** The call's `pace`: its tail appends, after the fsync, are sliced too. */
  pace?: () => Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/**
 * Writes and fsyncs `group`'s records into `wals` and its dead letters into `deadLetters`; the
 * records' buffer goes back to the pool once every write has settled. Throws after cutting the
 * touched WALs back when any write or fsync failed.
 */
export async function writeGroup(group: PendingCommit[], wals: WalWriter[], deadLetters: DeadLetterLog): Promise<void> {
  const touched = new Map<number, number>(); // shard → WAL size before the group
  let appended = false; // dead letters of the group are in the log
  try {
    let dlText = '';
    let dlCount = 0;
    const byShard = new Map<number, Uint8Array[]>();
    for (const item of group) {
      for (const r of item.records) {
        let chunks = byShard.get(r.shard);
        if (chunks === undefined) {
          byShard.set(r.shard, (chunks = []));
          touched.set(r.shard, wals[r.shard].bytes);
        }
        chunks.push(r.bytes);
      }
      dlText += item.deadLetterText;
      dlCount += item.deadLetterCount;
    }
    // Writes and fsyncs run on the I/O thread pool; meanwhile the main thread splits the next
    // batches. Every write settles before it is judged (a cut-back must not race a write still
    // running), and dead letters are appended only once every WAL record is written.
    const written = await Promise.allSettled([...byShard].map(([s, chunks]) => wals[s].appendAsync(chunks)));
    // Every write has settled: the records' bytes are no longer read.
    for (const item of group) ingestBuffers.release(item.recordBuffer);
    for (const r of written) if (r.status === 'rejected') throw r.reason;
    deadLetters.append(dlText, dlCount);
    appended = dlText.length > 0;
    await Promise.all([...[...byShard.keys()].map((s) => wals[s].sync()), deadLetters.sync()]);
  } catch (err) {
    if (appended) deadLetters.undoLast();
    for (const [s, size] of touched) {
      try {
        wals[s].truncateTo(size);
      } catch {
        // The writer cuts the file back before its next append, or fails that append.
      }
    }
    throw err;
  }
}

/**
 * Appends a durable group's parts with `apply`: at once, or, when a call in it is paced, in
 * slices of about PACE_ROWS rows, between `hold` and `release` (snapshots then see the rows
 * before the group until all are in). A pace that throws (its client went away) ends the
 * yielding, not the appending: the group is durable and is applied whole.
 */
export async function applyGroup(group: PendingCommit[], apply: (part: ShardPart) => void, hold: () => void, release: () => void): Promise<void> {
  let pace = group.find((item) => item.pace !== undefined)?.pace;
  if (pace === undefined) {
    for (const item of group) for (const part of item.parts) apply(part);
    return;
  }
  hold();
  try {
    let rows = 0;
    for (const item of group) {
      for (const part of item.parts) {
        apply(part);
        rows += part.rowCount;
        if (rows >= PACE_ROWS && pace !== undefined) {
          rows = 0;
          try {
            await pace();
          } catch {
            pace = undefined;
          }
        }
      }
    }
  } finally {
    release();
  }
}
