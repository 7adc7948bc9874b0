/**
 * Entry module of the flush worker thread: sorts one shard's frozen tail rows and writes them
 * as segment files (one per time partition), or reads and merges segments for compaction, so
 * the main thread, which owns ingest, spends no time on decoding, sorting, encoding or file
 * creation. See flush-pool.ts for the protocol. All segments of a task are encoded at once
 * (`encodeSegments`: a flush or a tiered merge with this thread's sticky encoding choices, a
 * full compaction's merge with the full search), then written several files at a time.
 *
 * Durability: every file is fsynced before its reply; the main thread fsyncs the directory and
 * commits the manifest. On failure the files this task wrote are removed before the reply.
 * Threading: one task at a time; per-flush dictionaries live until the flush's `end` message.
 */
import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort } from 'node:worker_threads';
import { EncodingChoices } from '../encodings/choice.js';
import { getDiskBudget, setDiskBudget } from './file-io.js';
import { CorruptDataError } from '../errors.js';
import type { FlushReply, FlushRequest, WrittenSegment } from './flush-pool.js';
import { mergeOrder } from './merge-order.js';
import { sortRows } from './row-order.js';
import { concatSegments } from './segment-merge.js';
import { SegmentReader } from './segment-reader.js';
import { encodeSegments, writeSegmentFile } from './segment-writer.js';
import { isPacked, type PackedStrings } from './packed-strings.js';
import type { RowSet } from './tail.js';
import { segmentName } from './table-files.js';
import type { TypedColumn } from './typed-column.js';

/** Segment files created, written and fsynced at once (the I/O thread pool has 4 threads by default). */
const WRITE_PARALLELISM = 4;

const port = parentPort;
if (port === null) throw new Error('flush-worker.ts must run in a worker thread');
/** Sticky encoding choices, kept across shards, flushes and tiered merges (see choice.ts; a full compaction searches in full). */
const choices = new EncodingChoices();
const dictsByFlush = new Map<number, Map<number, string[] | PackedStrings>>();

port.on('message', (msg: FlushRequest) => {
  if (msg.kind === 'dicts') {
    const known = dictsByFlush.get(msg.flushId) ?? new Map<number, string[] | PackedStrings>();
    for (const [id, dict] of msg.dicts) known.set(id, dict);
    dictsByFlush.set(msg.flushId, known);
    return;
  }
  if (msg.kind === 'end') {
    dictsByFlush.delete(msg.flushId);
    return;
  }
  void (msg.kind === 'merge' ? runMerge(msg) : runShard(msg)).then((reply) => port.postMessage(reply));
});

async function runShard(msg: Extract<FlushRequest, { kind: 'shard' }>): Promise<FlushReply> {
  const dicts = dictsByFlush.get(msg.flushId) ?? new Map<number, string[] | PackedStrings>();
  const columns: TypedColumn[] = msg.rows.columns.map(({ name, type, values, validity, dictId }) => {
    const col: TypedColumn = { name, type, values, validity };
    const dict = dictId === null ? undefined : dicts.get(dictId) ?? [];
    if (dict === undefined) return col;
    if (isPacked(dict)) {
      col.dict = [];
      col.packedDict = dict;
    } else col.dict = dict;
    return col;
  });
  const rows: RowSet = { rowCount: msg.rows.rowCount, actorIds: msg.rows.actorIds, times: msg.rows.times, columns };
  return writeTask(msg, () => rows, choices);
}

/**
 * Compaction's merge: reads the input segments (the file descriptors go back at once, since the
 * inputs are unlinked after the commit), concatenates them oldest first and writes the result,
 * with a full encoding search when asked (a full compaction), else with the sticky choices.
 */
function runMerge(msg: Extract<FlushRequest, { kind: 'merge' }>): Promise<FlushReply> {
  return writeTask(msg, () => {
    const readers = msg.inputs.map((i) => SegmentReader.written(i.path, i.footer, i.bytes));
    try {
      return concatSegments(readers, new Map(msg.schema));
    } finally {
      for (const r of readers) r.close();
    }
  }, msg.fullSearch ? undefined : choices);
}

/**
 * Sorts the rows `load` returns and writes one segment file per time partition, fsynced, under
 * the file numbers the main thread reserved; on failure removes what it wrote and replies with
 * the error (a damaged input named by its file).
 */
async function writeTask(msg: Extract<FlushRequest, { id: number }>, load: () => RowSet & { runStarts?: number[] }, sticky?: EncodingChoices): Promise<FlushReply> {
  setDiskBudget(msg.diskBudgetBytes);
  const written: string[] = [];
  const used = (): number => (msg.diskBudgetBytes === Infinity ? 0 : msg.diskBudgetBytes - getDiskBudget());
  try {
    const rows = load();
    // A merge's inputs are each sorted already: merged as runs rather than sorted again.
    const { order, ranges } = rows.runStarts === undefined ? sortRows(rows.actorIds, rows.times) : mergeOrder(rows.actorIds, rows.times, rows.runStarts);
    if (ranges.length > msg.seqCount) throw new Error(`${ranges.length} partitions where ${msg.seqCount} were reserved`);
    const encoded = encodeSegments(rows, order, ranges, { shard: msg.shard, genMin: msg.genMin, genMax: msg.genMax }, sticky);
    const segments: WrittenSegment[] = encoded.map(({ footer, bytes }, k) => ({
      file: segmentName(msg.firstSeq + k, msg.shard, footer.partition),
      footer,
      bytes: bytes.length,
    }));
    // Creating a file costs about a millisecond on some file systems: several at once on the I/O pool.
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < encoded.length) {
        const k = next++;
        const path = join(msg.segmentsDir, segments[k].file);
        written.push(path);
        await writeSegmentFile(path, encoded[k].bytes);
      }
    };
    const lanes = await Promise.allSettled(Array.from({ length: Math.min(WRITE_PARALLELISM, encoded.length) }, lane));
    const failed = lanes.find((r) => r.status === 'rejected');
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
    return { id: msg.id, ok: true, segments, usedBytes: used() };
  } catch (err) {
    for (const path of written) {
      try {
        unlinkSync(path);
      } catch {
        // never created, or already gone: an orphan would be removed on open anyway
      }
    }
    const e = err as NodeJS.ErrnoException & { code?: string };
    const file = err instanceof CorruptDataError ? err.file : null;
    const detail = err instanceof CorruptDataError ? err.detail : undefined;
    return { id: msg.id, ok: false, error: { name: e?.name ?? 'Error', code: e?.code ?? null, message: e?.message ?? String(err), file, detail }, usedBytes: used() };
  }
}
