/**
 * Writes one immutable segment file from rows in a given order (see segment-format.ts).
 *
 * `encodeSegment` builds the file's bytes in memory (pure CPU); `writeSegmentFile` creates,
 * writes and fsyncs the file on the I/O thread pool, so the thread that encodes never waits for
 * the file system (creating a file costs about a millisecond on some file systems, and a flush
 * creates hundreds). `writeSegment` does both synchronously. A file no manifest names is garbage
 * and is removed on open; the caller fsyncs the directory before committing a manifest that
 * names new files.
 */
import { Packr } from 'msgpackr';
import { close, closeSync, fsync, fsyncSync, open, openSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { compressIfPays, encodeBest, encodeDict, type PhysicalKind } from '../encodings/index.js';
import { ioError, writeAll, writeAllAsync } from './file-io.js';
import {
  ROW_GROUP_ROWS,
  SEGMENT_MAGIC,
  SEGMENT_TRAILER_MAGIC,
  type BlobRef,
  type BlockRef,
  type ColumnMeta,
  type SegmentFooter,
} from './segment-format.js';
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

  blob(payload: Uint8Array): BlobRef {
    const { compressed, bytes } = compressIfPays(payload);
    const o = this.push(bytes);
    return { o, l: bytes.length, c: crc32(bytes), z: compressed ? 1 : 0, r: payload.length };
  }
}

function kindOf(col: TypedColumn): PhysicalKind {
  return col.type === 'number' ? 'f64' : col.type === 'boolean' ? 'u8' : 'u32';
}

/** Writes an encoded block of `values` (already gathered) with an optional validity bitmap. */
function writeBlock(
  file: FileBuffer,
  values: Float64Array | Uint32Array | Uint8Array,
  kind: PhysicalKind,
  validity: Uint8Array | null,
  zone: { min: number | string | null; max: number | string | null; nc: number },
): BlockRef {
  const { encodingId, payload } = encodeBlockPayload(values, kind, validity);
  return { ...file.blob(payload), e: encodingId, vl: validity === null ? 0 : validity.length, ...zone };
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
  if (validity === null) return { encodingId, payload: bytes };
  const payload = new Uint8Array(validity.length + bytes.length);
  payload.set(validity, 0);
  payload.set(bytes, validity.length);
  return { encodingId, payload };
}

/**
 * Scratch per source dictionary, reused across the segments of one flush (a generation's tails
 * share their dictionaries, and each tail is cut into one segment per partition):
 * `stamp[code] === epoch` marks a code used by the current segment, so finding the used codes
 * costs the segment's rows, not the dictionary's length; `rank` orders the whole dictionary
 * once, so each segment sorts integers rather than strings.
 */
interface DictScratch {
  stamp: Int32Array;
  remap: Uint32Array;
  epoch: number;
  /** rank[code]: position of the string in sorted order; codeAt[rank] inverts it. */
  rank: Uint32Array;
  codeAt: Uint32Array;
}
const dictScratch = new WeakMap<string[], DictScratch>();

function scratchFor(source: string[]): DictScratch {
  const s = dictScratch.get(source);
  if (s !== undefined && s.rank.length === source.length) return s;
  // The default sort orders strings by UTF-16 code units, as `<` does, natively and much faster
  // than a comparator over indices; the entries are distinct, so a map gives each its rank.
  const sorted = source.slice().sort();
  const rankOf = new Map<string, number>();
  for (let r = 0; r < sorted.length; r++) rankOf.set(sorted[r], r);
  const rank = new Uint32Array(source.length);
  const codeAt = new Uint32Array(source.length);
  for (let c = 0; c < source.length; c++) {
    const r = rankOf.get(source[c])!;
    rank[c] = r;
    codeAt[r] = c;
  }
  const fresh: DictScratch = { stamp: new Int32Array(source.length), remap: new Uint32Array(source.length), epoch: 0, rank, codeAt };
  dictScratch.set(source, fresh);
  return fresh;
}

/**
 * Sorted segment dictionary for the codes used by already gathered row groups (sequential reads;
 * gathering did the random ones), and the old-code → new-code map.
 */
function segmentDict(source: string[], groups: Gathered[]): { dict: string[]; remap: Uint32Array } {
  const scratch = scratchFor(source);
  const epoch = ++scratch.epoch;
  const { stamp, rank, codeAt } = scratch;
  const usedRanks: number[] = [];
  for (const g of groups) {
    if (g.min === null) continue; // every row null
    const values = g.values as Uint32Array;
    const validity = g.validity;
    for (let i = 0; i < values.length; i++) {
      if (validity !== null && (validity[i >> 3] & (1 << (i & 7))) === 0) continue;
      const c = values[i];
      if (stamp[c] !== epoch) {
        stamp[c] = epoch;
        usedRanks.push(rank[c]);
      }
    }
  }
  const sorted = Uint32Array.from(usedRanks).sort();
  const remap = scratch.remap;
  const dict: string[] = new Array(sorted.length);
  for (let k = 0; k < sorted.length; k++) {
    const c = codeAt[sorted[k]];
    dict[k] = source[c];
    remap[c] = k;
  }
  return { dict, remap };
}

/** Rewrites a gathered group's codes through `remap`; its zone map becomes the first and last strings. */
function remapGathered(g: Gathered, remap: Uint32Array, dict: string[]): void {
  if (g.min === null) return; // every row null: nothing to map, no zone
  const values = g.values as Uint32Array;
  const validity = g.validity;
  let min = Infinity;
  let max = -Infinity;
  // Null rows hold a neighbour's code (see gatherColumn), which is used, so it maps too.
  for (let i = 0; i < values.length; i++) {
    const v = remap[values[i]];
    values[i] = v;
    if (validity !== null && (validity[i >> 3] & (1 << (i & 7))) === 0) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  g.min = dict[min];
  g.max = dict[max];
}

interface Gathered {
  values: Float64Array | Uint32Array | Uint8Array;
  validity: Uint8Array | null;
  nc: number;
  min: number | string | null;
  max: number | string | null;
}

/**
 * Gathers one row group of a column (out[i] = values[rows[i]]), with a null row taking the
 * previous value and leading nulls the first one, so frame-of-reference widths stay small;
 * counts nulls and finds min and max (for strings these are codes; remapGathered replaces them).
 * One loop per array type: a single loop over all three sees polymorphic element accesses and
 * runs several times slower.
 */
function gatherColumn(col: TypedColumn, rows: Uint32Array): Gathered {
  const n = rows.length;
  if (col.type === 'number') return finishGather(gatherF64(new Float64Array(n), col.values as Float64Array, col.validity, rows));
  if (col.type === 'boolean') return finishGather(gatherU8(new Uint8Array(n), col.values as Uint8Array, col.validity, rows));
  return finishGather(gatherU32(new Uint32Array(n), col.values as Uint32Array, col.validity, rows));
}

interface RawGather {
  values: Float64Array | Uint32Array | Uint8Array;
  validity: Uint8Array;
  nc: number;
  min: number;
  max: number;
  firstValid: number;
}

function finishGather(g: RawGather): Gathered {
  const n = g.values.length;
  if (g.firstValid > 0) g.values.fill(g.values[g.firstValid], 0, g.firstValid);
  if (g.nc === n) return { values: g.values, validity: g.validity, nc: n, min: null, max: null };
  return { values: g.values, validity: g.nc === 0 ? null : g.validity, nc: g.nc, min: g.min, max: g.max };
}

function gatherF64(out: Float64Array, src: Float64Array, srcValidity: Uint8Array | null, rows: Uint32Array): RawGather {
  const n = rows.length;
  const validity = new Uint8Array((n + 7) >> 3);
  let nc = 0;
  let min = Infinity;
  let max = -Infinity;
  let filler = 0;
  let firstValid = -1;
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    if (srcValidity !== null && (srcValidity[r >> 3] & (1 << (r & 7))) === 0) {
      out[i] = filler;
      nc++;
      continue;
    }
    const v = src[r];
    out[i] = v;
    filler = v;
    if (firstValid < 0) firstValid = i;
    validity[i >> 3] |= 1 << (i & 7);
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { values: out, validity, nc, min, max, firstValid };
}

/** gatherF64 for u32 codes: the same loop, typed apart so each stays monomorphic. */
function gatherU32(out: Uint32Array, src: Uint32Array, srcValidity: Uint8Array | null, rows: Uint32Array): RawGather {
  const n = rows.length;
  const validity = new Uint8Array((n + 7) >> 3);
  let nc = 0;
  let min = Infinity;
  let max = -Infinity;
  let filler = 0;
  let firstValid = -1;
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    if (srcValidity !== null && (srcValidity[r >> 3] & (1 << (r & 7))) === 0) {
      out[i] = filler;
      nc++;
      continue;
    }
    const v = src[r];
    out[i] = v;
    filler = v;
    if (firstValid < 0) firstValid = i;
    validity[i >> 3] |= 1 << (i & 7);
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { values: out, validity, nc, min, max, firstValid };
}

/** gatherF64 for u8 booleans: the same loop, typed apart so each stays monomorphic. */
function gatherU8(out: Uint8Array, src: Uint8Array, srcValidity: Uint8Array | null, rows: Uint32Array): RawGather {
  const n = rows.length;
  const validity = new Uint8Array((n + 7) >> 3);
  let nc = 0;
  let min = Infinity;
  let max = -Infinity;
  let filler = 0;
  let firstValid = -1;
  for (let i = 0; i < n; i++) {
    const r = rows[i];
    if (srcValidity !== null && (srcValidity[r >> 3] & (1 << (r & 7))) === 0) {
      out[i] = filler;
      nc++;
      continue;
    }
    const v = src[r];
    out[i] = v;
    filler = v;
    if (firstValid < 0) firstValid = i;
    validity[i >> 3] |= 1 << (i & 7);
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { values: out, validity, nc, min, max, firstValid };
}

function minMax(values: Float64Array | Uint32Array): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    if (values[i] < min) min = values[i];
    if (values[i] > max) max = values[i];
  }
  return { min, max };
}

/**
 * Encodes rows `order` of `rows` (already sorted by actor, time) as a segment file's bytes.
 * Returns them with the footer, which the manifest summarizes.
 */
export function encodeSegment(rows: RowSet, order: Uint32Array, placement: SegmentPlacement): { footer: SegmentFooter; bytes: Buffer } {
  const file = new FileBuffer();
  file.push(Buffer.from(SEGMENT_MAGIC, 'latin1'));
  const groupRows: Uint32Array[] = [];
  for (let s = 0; s < order.length; s += ROW_GROUP_ROWS) groupRows.push(order.subarray(s, Math.min(order.length, s + ROW_GROUP_ROWS)));

  const actor: BlockRef[] = [];
  const time: BlockRef[] = [];
  let minTimeMs = Infinity;
  let maxTimeMs = -Infinity;
  for (const g of groupRows) {
    const ids = new Uint32Array(g.length);
    const ts = new Float64Array(g.length);
    for (let i = 0; i < g.length; i++) {
      ids[i] = rows.actorIds[g[i]];
      ts[i] = rows.times[g[i]];
    }
    const a = minMax(ids);
    const t = minMax(ts);
    if (t.min < minTimeMs) minTimeMs = t.min;
    if (t.max > maxTimeMs) maxTimeMs = t.max;
    actor.push(writeBlock(file, ids, 'u32', null, { min: a.min, max: a.max, nc: 0 }));
    time.push(writeBlock(file, ts, 'f64', null, { min: t.min, max: t.max, nc: 0 }));
  }

  const columns: ColumnMeta[] = [];
  for (const col of rows.columns) {
    // Gather every group first (the random reads), then code strings from the gathered copies.
    const groups = groupRows.map((g) => gatherColumn(col, g));
    const sd = col.type === 'string' ? segmentDict(col.dict!, groups) : null;
    if (sd !== null && sd.dict.length === 0) continue; // no value of this column in these rows
    if (sd !== null) for (const gathered of groups) remapGathered(gathered, sd.remap, sd.dict);
    const meta: ColumnMeta = { name: col.name, type: col.type, blocks: [], nullCount: 0 };
    for (let k = 0; k < groupRows.length; k++) {
      const g = groupRows[k];
      const gathered = groups[k];
      meta.nullCount += gathered.nc;
      meta.blocks.push(
        gathered.nc === g.length
          ? null
          : writeBlock(file, gathered.values, kindOf(col), gathered.validity, { min: gathered.min, max: gathered.max, nc: gathered.nc }),
      );
    }
    if (meta.nullCount === order.length) continue;
    if (sd !== null) meta.dict = file.blob(encodeDict(sd.dict));
    columns.push(meta);
  }

  const footer: SegmentFooter = {
    version: 1,
    rowCount: order.length,
    ...placement,
    minTimeMs,
    maxTimeMs,
    rowGroups: groupRows.map((g) => g.length),
    actor,
    time,
    columns,
  };
  const footerBytes = packr.pack(footer);
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
