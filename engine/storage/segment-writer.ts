/**
 * Writes one immutable segment file from rows in a given order (see segment-format.ts).
 *
 * `encodeSegments` builds the bytes of all segments of one shard's flush in memory (pure CPU),
 * column by column over every segment so each source column is read while it is in cache
 * (gathers and string dictionaries: segment-gather.ts, from columns regrouped by segment first:
 * segment-regroup.ts); `encodeSegment` is the one-segment case.
 * Encodings come from the full search (`encodeBest`) unless the caller passes `EncodingChoices`
 * (the flush workers do; compaction does not, so it rewrites every block with the full search).
 * `writeSegmentFile` creates,
 * writes and fsyncs the file on the I/O thread pool, so the thread that encodes never waits for
 * the file system (creating a file costs about a millisecond on some file systems, and a flush
 * creates hundreds). `writeSegment` does both synchronously. A file no manifest names is garbage
 * and is removed on open; the caller fsyncs the directory before committing a manifest that
 * names new files.
 */
import { Packr } from 'msgpackr';
import { close, closeSync, fsync, fsyncSync, open, openSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import type { EncodingChoices } from '../encodings/choice.js';
import { compressIfPays, encodeBest, encodeDict, type PhysicalKind } from '../encodings/index.js';
import { ioError, writeAll, writeAllAsync } from './file-io.js';
import {
  ROW_GROUP_ROWS,
  SEGMENT_MAGIC,
  SEGMENT_TRAILER_MAGIC,
  storedFooter,
  type BlobRef,
  type BlockRef,
  type ColumnMeta,
  type SegmentFooter,
} from './segment-format.js';
import { remapGathered, segmentDict, type StoredDict } from './segment-dict.js';
import { gatherRange, gatherSparse, positionsOfValid, rankRows, type Gathered } from './segment-gather.js';
import { regroupColumn, regroupRows } from './segment-regroup.js';
import type { RowSet } from './tail.js';
import type { TypedColumn } from './typed-column.js';

const packr = new Packr({ useRecords: false });

export interface SegmentPlacement {
  shard: number;
  partition: number;
  genMin: number;
  genMax: number;
}

/** Accumulates a file's bytes in memory; segments are bounded by flush and compaction sizes. */
class FileBuffer {
  readonly chunks: Uint8Array[] = [];
  offset = 0;

  push(bytes: Uint8Array): number {
    const at = this.offset;
    this.chunks.push(bytes);
    this.offset += bytes.length;
    return at;
  }

  /** Appends a blob, LZ4-compressed when `tryLz4` and that pays. */
  blob(payload: Uint8Array, tryLz4 = true): BlobRef {
    const { compressed, bytes } = tryLz4 ? compressIfPays(payload) : { compressed: false, bytes: payload };
    return this.stored({ compressed, bytes, rawLength: payload.length, crc: crc32(bytes) });
  }

  /** Appends a blob already in its stored form. */
  stored(s: StoredDict): BlobRef {
    const o = this.push(s.bytes);
    return { o, l: s.bytes.length, c: s.crc, z: s.compressed ? 1 : 0, r: s.rawLength };
  }
}

function kindOf(col: TypedColumn): PhysicalKind {
  return col.type === 'number' ? 'f64' : col.type === 'boolean' ? 'u8' : 'u32';
}

/**
 * Writes an encoded block of `values` (already gathered) with an optional validity bitmap: the
 * best encoding by full search, or with `choices` the column's sticky choice (choice.ts), read
 * at a sparse gather's `valid` rows alone when that choice is sparse.
 */
function writeBlock(
  file: FileBuffer,
  values: Float64Array | Uint32Array | Uint8Array,
  kind: PhysicalKind,
  validity: Uint8Array | null,
  zone: { min: number | string | null; max: number | string | null; nc: number },
  column: string,
  choices: EncodingChoices | undefined,
  valid?: Uint32Array,
): BlockRef {
  if (choices === undefined) {
    const { encodingId, payload } = encodeBlockPayload(values, kind, validity);
    return { ...file.blob(payload), e: encodingId, vl: validity === null ? 0 : validity.length, ...zone };
  }
  const chosen = choices.encode(column, values, kind, validity, valid);
  const blob = file.blob(withValidity(validity, chosen.bytes), chosen.tryLz4);
  if (chosen.searched) choices.lz4Paid(column, kind, blob.z === 1);
  return { ...blob, e: chosen.encodingId, vl: validity === null ? 0 : validity.length, ...zone };
}

/** The validity bitmap (when any) in front of the encoded values. */
function withValidity(validity: Uint8Array | null, bytes: Uint8Array): Uint8Array {
  if (validity === null) return bytes;
  const payload = new Uint8Array(validity.length + bytes.length);
  payload.set(validity, 0);
  payload.set(bytes, validity.length);
  return payload;
}

/**
 * A block's payload as segments store it before LZ4: the validity bitmap (when any) in front of
 * the values in their smallest encoding. Exported for tools that re-encode stored blocks.
 */
export function encodeBlockPayload(
  values: Float64Array | Uint32Array | Uint8Array,
  kind: PhysicalKind,
  validity: Uint8Array | null,
): { encodingId: number; payload: Uint8Array } {
  const { encodingId, bytes } = encodeBest(values, kind, validity);
  return { encodingId, payload: withValidity(validity, bytes) };
}

/** Rows of one segment within a shard's sorted order, and its time partition. */
export interface SegmentRange {
  partition: number;
  start: number;
  end: number;
}

/** A segment being built: its bytes so far and the footer's parts. */
interface SegmentParts {
  file: FileBuffer;
  rowGroups: number[];
  actor: BlockRef[];
  time: BlockRef[];
  columns: ColumnMeta[];
  minTimeMs: number;
  maxTimeMs: number;
}

const ACTOR_TYPE = 'string';
const TIME_TYPE = 'number';

/**
 * Encodes rows `order` of `rows` (already sorted by actor, time) as a segment file's bytes.
 * Returns them with the footer, which the manifest summarizes.
 */
export function encodeSegment(rows: RowSet, order: Uint32Array, placement: SegmentPlacement): { footer: SegmentFooter; bytes: Buffer } {
  const { partition, ...shard } = placement;
  return encodeSegments(rows, order, [{ partition, start: 0, end: order.length }], shard)[0];
}

/**
 * Encodes several segments of one shard at once: `ranges` cut the sorted `order` into one
 * segment each. Column by column over every segment, so each source column is read while it is
 * in cache (a shard's rows sit in arrival order, and every segment gathers from all of them).
 */
export function encodeSegments(
  rows: RowSet,
  order: Uint32Array,
  ranges: readonly SegmentRange[],
  shard: Omit<SegmentPlacement, 'partition'>,
  choices?: EncodingChoices,
): { footer: SegmentFooter; bytes: Buffer }[] {
  const parts: SegmentParts[] = ranges.map((r) => {
    const file = new FileBuffer();
    file.push(Buffer.from(SEGMENT_MAGIC, 'latin1'));
    const rowGroups: number[] = [];
    for (let s = r.start; s < r.end; s += ROW_GROUP_ROWS) rowGroups.push(Math.min(r.end - s, ROW_GROUP_ROWS));
    return { file, rowGroups, actor: [], time: [], columns: [], minTimeMs: Infinity, maxTimeMs: -Infinity };
  });
  // Dense columns are gathered from a copy regrouped by segment when that pays (segment-regroup.ts).
  const regroup = regroupRows(order, ranges, rows.rowCount);
  const source = (col: TypedColumn): TypedColumn => (regroup === null ? col : regroupColumn(col, regroup));
  const gatherOrder = regroup === null ? order : regroup.order;
  const actorCol = source({ name: '$actor', type: ACTOR_TYPE, values: rows.actorIds, validity: null });
  ranges.forEach((r, k) => {
    const part = parts[k];
    for (const g of gatherRange(actorCol, gatherOrder.subarray(r.start, r.end), ROW_GROUP_ROWS)) {
      part.actor.push(writeBlock(part.file, g.values, 'u32', null, { min: g.min, max: g.max, nc: 0 }, actorCol.name, choices));
    }
  });
  const timeCol = source({ name: '$time', type: TIME_TYPE, values: rows.times, validity: null });
  ranges.forEach((r, k) => {
    const part = parts[k];
    for (const g of gatherRange(timeCol, gatherOrder.subarray(r.start, r.end), ROW_GROUP_ROWS)) {
      if ((g.min as number) < part.minTimeMs) part.minTimeMs = g.min as number;
      if ((g.max as number) > part.maxTimeMs) part.maxTimeMs = g.max as number;
      part.time.push(writeBlock(part.file, g.values, 'f64', null, { min: g.min, max: g.max, nc: 0 }, timeCol.name, choices));
    }
  });
  // Mostly-null columns are gathered from their valid rows' positions (`gatherSparse`), found
  // through the rows' ranks in `order`, computed once for all of them.
  let ranks: Int32Array | null = null;
  const rank = (): Int32Array => (ranks ??= rankRows(order));
  const permutes = order.length === rows.rowCount;
  for (const col of rows.columns) {
    const positions = permutes ? positionsOfValid(col, rows.rowCount, rank) : null;
    const dense = positions === null ? source(col) : col;
    ranges.forEach((r, k) => {
      const groups = positions === null ? gatherRange(dense, gatherOrder.subarray(r.start, r.end), ROW_GROUP_ROWS) : gatherSparse(col, order, r.start, r.end, positions, ROW_GROUP_ROWS);
      const meta = encodeColumn(parts[k].file, col, groups, r.end - r.start, choices);
      if (meta !== null) parts[k].columns.push(meta);
    });
  }
  return parts.map((part, k) => finishSegment(part, { shard: shard.shard, partition: ranges[k].partition, genMin: shard.genMin, genMax: shard.genMax }, ranges[k].end - ranges[k].start));
}

/**
 * Writes one column's blocks of one segment of `rowCount` rows, gathered first (the random
 * reads), strings then coded from the gathered copies; null when the segment holds no value of it.
 */
function encodeColumn(file: FileBuffer, col: TypedColumn, groups: Gathered[], rowCount: number, choices: EncodingChoices | undefined): ColumnMeta | null {
  const sd = col.type === 'string' ? segmentDict(col.packedDict ?? col.dict!, groups) : null;
  if (sd !== null && sd.dict.length === 0) return null; // no value of this column in these rows
  if (sd !== null) for (const gathered of groups) remapGathered(gathered, sd.remap, sd.dict);
  const meta: ColumnMeta = { name: col.name, type: col.type, blocks: [], nullCount: 0 };
  for (const gathered of groups) {
    meta.nullCount += gathered.nc;
    meta.blocks.push(
      gathered.nc === gathered.values.length
        ? null
        : writeBlock(file, gathered.values, kindOf(col), gathered.validity, { min: gathered.min, max: gathered.max, nc: gathered.nc }, col.name, choices, gathered.valid),
    );
  }
  if (meta.nullCount === rowCount) return null;
  if (sd !== null) {
    let stored = sd.stored;
    if (stored === null) {
      const payload = encodeDict(sd.dict);
      const { compressed, bytes } = compressIfPays(payload);
      stored = { compressed, bytes, rawLength: payload.length, crc: crc32(bytes) };
      sd.remember(stored);
    }
    meta.dict = file.stored(stored);
  }
  return meta;
}

/** Appends the footer and trailer; returns the file's bytes. */
function finishSegment(part: SegmentParts, placement: SegmentPlacement, rowCount: number): { footer: SegmentFooter; bytes: Buffer } {
  const { file } = part;
  const footer: SegmentFooter = {
    version: 1,
    rowCount,
    ...placement,
    minTimeMs: part.minTimeMs,
    maxTimeMs: part.maxTimeMs,
    rowGroups: part.rowGroups,
    actor: part.actor,
    time: part.time,
    columns: part.columns,
  };
  const footerBytes = packr.pack(storedFooter(footer));
  file.push(footerBytes);
  const trailer = Buffer.alloc(16);
  trailer.writeUInt32LE(footerBytes.length, 0);
  trailer.writeUInt32LE(crc32(footerBytes), 4);
  trailer.write(SEGMENT_TRAILER_MAGIC, 8, 'latin1');
  file.push(trailer);
  return { footer, bytes: Buffer.concat(file.chunks) };
}

/** Encodes and writes a segment at `path` synchronously; fsyncs it with `sync` (the default). */
export function writeSegment(path: string, rows: RowSet, order: Uint32Array, placement: SegmentPlacement, sync = true): SegmentFooter {
  const { footer, bytes } = encodeSegment(rows, order, placement);
  let fd: number | undefined;
  try {
    fd = openSync(path, 'w');
    writeAll(fd, bytes);
    if (sync) fsyncSync(fd);
  } catch (err) {
    throw ioError(err, path);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return footer;
}

/**
 * Creates `path` with `bytes`, fsyncs and closes it, all on the I/O thread pool; rejects with
 * IO_ERROR/DISK_FULL naming the file.
 */
export function writeSegmentFile(path: string, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    open(path, 'w', (openErr, fd) => {
      if (openErr) return reject(ioError(openErr, path));
      const fail = (err: unknown): void => close(fd, () => reject(ioError(err, path)));
      writeAllAsync(fd, [bytes]).then(
        () => fsync(fd, (syncErr) => (syncErr ? fail(syncErr) : close(fd, (closeErr) => (closeErr ? reject(ioError(closeErr, path)) : resolve())))),
        fail,
      );
    });
  });
}

/** Most fsyncs in flight at once (the I/O thread pool has 4 threads by default). */
const SYNC_PARALLELISM = 8;

/**
 * Fsyncs written files on the I/O thread pool, several at a time, so the main thread keeps
 * serving commits meanwhile; rejects with IO_ERROR/DISK_FULL naming the first file that failed.
 */
export async function syncFiles(paths: readonly string[]): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < paths.length) {
      const path = paths[next++];
      await new Promise<void>((resolve, reject) => {
        open(path, 'r', (err, fd) => {
          if (err) return reject(ioError(err, path));
          fsync(fd, (syncErr) => close(fd, () => (syncErr ? reject(ioError(syncErr, path)) : resolve())));
        });
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(SYNC_PARALLELISM, paths.length) }, worker));
}
