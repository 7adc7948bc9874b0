/**
 * Reads a segment file (see segment-format.ts) as a ScanSource: the footer is read and
 * checked on open, blocks are read with positional reads, checked against their crc32,
 * decompressed and decoded on demand. Dictionaries are read once and cached.
 *
 * Threading: a reader is used by one thread. It holds no file descriptor of its own: it asks
 * the thread's bounded descriptor cache (fd-cache.ts) on each read, which reopens the file when
 * it was evicted. Any checksum or layout failure throws CorruptDataError naming the file; the
 * process never crashes on it.
 *
 * Damage: the first corrupt block a reader meets is remembered in `damage` and announced to
 * `SegmentReader.damageListeners` (the store lists it in table stats, logs and metrics). A
 * segment that cannot be opened at all is kept as a quarantined reader built from its manifest
 * entry: time bounds, row count and columns stay known, so queries whose range misses it run
 * as usual, and a query that would read it fails with CORRUPT_DATA naming the file rather than
 * answering without its rows.
 */
import { Packr } from 'msgpackr';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { crc32 } from 'node:zlib';
import { countNulls, decodeBlock, decodeDict, decodeValidValues, decompress, ENCODING_IDS, type PhysicalKind } from '../encodings/index.js';
import { CorruptDataError } from '../errors.js';
import type { RowGroupInfo, ScanSource } from '../query/source.js';
import type { ColumnType, ColumnVector, ZoneMap } from '../types.js';
import { segmentFds } from './fd-cache.js';
import { ioError } from './file-io.js';
import type { SegmentEntry } from './manifest.js';
import {
  footerProblem,
  restoreFooter,
  SEGMENT_MAGIC,
  SEGMENT_TRAILER_BYTES,
  SEGMENT_TRAILER_MAGIC,
  type BlobRef,
  type BlockRef,
  type ColumnMeta,
  type SegmentFooter,
} from './segment-format.js';
import type { StoredType } from './typed-column.js';

const packr = new Packr({ useRecords: false });

function zoneOf(b: BlockRef | null, rowCount: number): ZoneMap {
  return b === null ? { min: null, max: null, nullCount: rowCount } : { min: b.min, max: b.max, nullCount: b.nc };
}

/**
 * Where a block is decoded to: an array of `kind` and exactly `rowCount` elements, whose contents
 * the decoder overwrites. A caller that will not keep the block (a worker's block cache that
 * declines it) passes one over a reused buffer, sparing a new array per block (its zeroing, page
 * faults and collection); the vector is then valid until that buffer is reused.
 */
export type DecodeTarget = (kind: PhysicalKind, rowCount: number) => Float64Array | Uint32Array | Uint8Array;

/** A sparse block's valid rows' values in row order, with its bitmap (SegmentReader.readSparse). */
export interface SparseVector {
  type: StoredType;
  values: Float64Array | Uint32Array | Uint8Array;
  validity: Uint8Array;
  /** The column's dictionary, for strings (values are its codes). */
  dict: readonly string[] | null;
}

/** Told once per reader when a segment turns out to be damaged (path, reason). */
export type DamageListener = (path: string, reason: string) => void;

/** Stands in for the block references of a quarantined segment; never read. */
const UNREADABLE: BlockRef = { o: 0, l: 0, c: 0, z: 0, r: 0, e: 0, vl: 0, min: null, max: null, nc: 0 };

export class SegmentReader implements ScanSource {
  /** Everyone interested in damage found while reading (the store registers here). */
  static readonly damageListeners = new Set<DamageListener>();
  readonly path: string;
  readonly id: string;
  readonly footer: SegmentFooter;
  readonly fileBytes: number;
  readonly rowGroups: readonly RowGroupInfo[];
  readonly columns: ReadonlyMap<string, ColumnType>;
  /** Why this segment cannot be (wholly) read, or null while it reads fine. */
  damage: string | null = null;
  /** True for a segment that failed to open: every read fails with `damage`. */
  readonly quarantined: boolean;
  private readonly byName = new Map<string, ColumnMeta>();
  private readonly dicts = new Map<string, string[]>();
  private closed = false;

  private constructor(path: string, footer: SegmentFooter, fileBytes: number, damage: string | null = null) {
    this.path = path;
    this.damage = damage;
    this.quarantined = damage !== null;
    this.id = basename(path);
    this.footer = footer;
    this.fileBytes = fileBytes;
    const types = new Map<string, ColumnType>();
    for (const c of footer.columns) {
      this.byName.set(c.name, c);
      types.set(c.name, c.type);
    }
    this.columns = types;
    let rowStart = 0;
    this.rowGroups = footer.rowGroups.map((rowCount, g) => {
      const zones = new Map<string, ZoneMap>();
      zones.set('$time', zoneOf(footer.time[g], rowCount));
      for (const c of footer.columns) zones.set(c.name, zoneOf(c.blocks[g], rowCount));
      const actorMax = footer.actor[g].max;
      const info: RowGroupInfo = { rowStart, rowCount, zones, ...(typeof actorMax === 'number' ? { actorMax } : {}) };
      rowStart += rowCount;
      return info;
    });
  }

  /** Opens a segment and verifies its trailer and footer. */
  static open(path: string): SegmentReader {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch (err) {
      throw ioError(err, path);
    }
    try {
      const size = fstatSync(fd).size;
      if (size < 8 + SEGMENT_TRAILER_BYTES) throw new CorruptDataError(path, 'file too short');
      const head = Buffer.alloc(8);
      readSync(fd, head, 0, 8, 0);
      if (head.toString('latin1') !== SEGMENT_MAGIC) throw new CorruptDataError(path, 'bad magic');
      const trailer = Buffer.alloc(SEGMENT_TRAILER_BYTES);
      readSync(fd, trailer, 0, SEGMENT_TRAILER_BYTES, size - SEGMENT_TRAILER_BYTES);
      if (trailer.toString('latin1', 8, 16) !== SEGMENT_TRAILER_MAGIC) throw new CorruptDataError(path, 'torn trailer');
      const footerLen = trailer.readUInt32LE(0);
      if (footerLen > size - 8 - SEGMENT_TRAILER_BYTES) throw new CorruptDataError(path, 'bad footer length');
      const footerBytes = Buffer.alloc(footerLen);
      readSync(fd, footerBytes, 0, footerLen, size - SEGMENT_TRAILER_BYTES - footerLen);
      if (crc32(footerBytes) !== trailer.readUInt32LE(4)) throw new CorruptDataError(path, 'footer checksum mismatch');
      let footer: SegmentFooter;
      try {
        footer = packr.unpack(footerBytes) as SegmentFooter;
        restoreFooter(footer);
      } catch {
        throw new CorruptDataError(path, 'undecodable footer');
      }
      const problem = footerProblem(footer);
      if (problem !== null) throw new CorruptDataError(path, `malformed footer: ${problem}`);
      const reader = new SegmentReader(path, footer, size);
      segmentFds.adopt(reader, fd);
      return reader;
    } catch (err) {
      closeSync(fd);
      throw err instanceof CorruptDataError ? err : ioError(err, path);
    }
  }

  /**
   * A reader of a segment this process has just written, whose footer it holds: neither trailer
   * nor footer is read back, and the file is opened on the first read.
   */
  static written(path: string, footer: SegmentFooter, fileBytes: number): SegmentReader {
    return new SegmentReader(path, footer, fileBytes);
  }

  /**
   * A reader for a segment that could not be opened, shaped from its manifest entry: one row
   * group with the entry's time bounds, row count and per-column null counts (so zone maps skip
   * it exactly where the real segment would be skipped); any read throws CorruptDataError.
   */
  static quarantined(path: string, entry: SegmentEntry, schema: ReadonlyMap<string, StoredType>, reason: string): SegmentReader {
    const columns: ColumnMeta[] = Object.entries(entry.nulls)
      .filter(([name]) => schema.has(name))
      .map(([name, nullCount]) => ({ name, type: schema.get(name)!, blocks: [{ ...UNREADABLE, nc: nullCount }], nullCount }));
    const footer: SegmentFooter = {
      version: 1,
      rowCount: entry.rowCount,
      shard: entry.shard,
      partition: entry.partition,
      genMin: entry.genMin,
      genMax: entry.genMax,
      minTimeMs: entry.minTimeMs,
      maxTimeMs: entry.maxTimeMs,
      rowGroups: [entry.rowCount],
      actor: [UNREADABLE],
      time: [{ ...UNREADABLE, min: entry.minTimeMs, max: entry.maxTimeMs }],
      columns,
    };
    return new SegmentReader(path, footer, entry.bytes, reason);
  }

  /** Records damage found reading this segment elsewhere (a flush worker's merge): see noteDamage. */
  recordDamage(err: CorruptDataError): void {
    this.noteDamage(err);
  }

  /** Remembers the first damage found and tells the listeners; returns the error to throw. */
  private noteDamage(err: unknown): unknown {
    if (err instanceof CorruptDataError && this.damage === null) {
      this.damage = err.detail;
      for (const listener of SegmentReader.damageListeners) listener(this.path, err.detail);
    }
    return err;
  }

  get rowCount(): number {
    return this.footer.rowCount;
  }
  get minTimeMs(): number {
    return this.footer.minTimeMs;
  }
  get maxTimeMs(): number {
    return this.footer.maxTimeMs;
  }

  /** Reads a blob's stored bytes, checks its crc and decompresses it. */
  private readBlob(ref: BlobRef, what: string): Uint8Array {
    if (this.quarantined) throw new CorruptDataError(this.path, `${this.damage}; the segment is quarantined`);
    if (this.closed) throw new CorruptDataError(this.path, 'read after close');
    const stored = Buffer.allocUnsafe(ref.l);
    let got: number;
    try {
      got = readSync(segmentFds.get(this, this.reopen), stored, 0, ref.l, ref.o);
    } catch (err) {
      throw ioError(err, this.path);
    }
    if (got !== ref.l) throw new CorruptDataError(this.path, `${what}: short read`);
    if (crc32(stored) !== ref.c) throw new CorruptDataError(this.path, `${what}: checksum mismatch`);
    if (ref.z === 0) return stored;
    try {
      const raw = decompress(stored, ref.r);
      if (raw.length !== ref.r) throw new Error('length');
      return raw;
    } catch (err) {
      throw new CorruptDataError(this.path, `${what}: undecompressable block (${(err as Error).message})`);
    }
  }

  private readBlock(ref: BlockRef, kind: PhysicalKind, rowCount: number, what: string, into?: DecodeTarget) {
    const payload = this.readBlob(ref, what);
    const validity = ref.vl === 0 ? null : payload.subarray(0, ref.vl);
    try {
      const values = decodeBlock(ref.e, payload.subarray(ref.vl), kind, rowCount, into?.(kind, rowCount), validity);
      return { values, validity };
    } catch (err) {
      throw new CorruptDataError(this.path, `${what}: ${(err as Error).message}`);
    }
  }

  private dictOf(meta: ColumnMeta): string[] {
    let dict = this.dicts.get(meta.name);
    if (dict === undefined) {
      const bytes = this.readBlob(meta.dict!, `dictionary of "${meta.name}"`);
      try {
        dict = decodeDict(bytes);
      } catch {
        throw new CorruptDataError(this.path, `dictionary of "${meta.name}" undecodable`);
      }
      this.dicts.set(meta.name, dict);
    }
    return dict;
  }

  /**
   * ScanSource.readColumn; with `into`, the values are decoded into the array it gives (of
   * exactly the row group's length) instead of a new one: see DecodeTarget.
   */
  readColumn(column: string, rowGroup: number, into?: DecodeTarget): ColumnVector | null {
    try {
      return this.decodeColumn(column, rowGroup, into);
    } catch (err) {
      throw this.noteDamage(err);
    }
  }

  private decodeColumn(column: string, rowGroup: number, into: DecodeTarget | undefined): ColumnVector | null {
    const rowCount = this.footer.rowGroups[rowGroup];
    if (column === '$time') {
      const { values } = this.readBlock(this.footer.time[rowGroup], 'f64', rowCount, `time block ${rowGroup}`, into);
      return { type: 'time', values: values as Float64Array, validity: null };
    }
    const meta = this.byName.get(column);
    if (meta === undefined) return null;
    const block = meta.blocks[rowGroup];
    if (block === null) return allNull(meta, rowCount, meta.type === 'string' ? this.dictOf(meta) : []);
    const what = `column "${column}" block ${rowGroup}`;
    if (meta.type === 'string') {
      const { values, validity } = this.readBlock(block, 'u32', rowCount, what, into);
      return { type: 'string', codes: values as Uint32Array, dict: this.dictOf(meta), validity };
    }
    if (meta.type === 'boolean') {
      const { values, validity } = this.readBlock(block, 'u8', rowCount, what, into);
      return { type: 'boolean', values: values as Uint8Array, validity };
    }
    const { values, validity } = this.readBlock(block, 'f64', rowCount, what, into);
    return { type: 'number', values: values as Float64Array, validity };
  }

  /**
   * For merges: a column's block when it is stored sparse, as its valid rows' values alone, in
   * row order (a scratch view, valid until the next read), with its bitmap; null for any other
   * block (readColumn reads those) or an absent column. Spares writing the filler of every null
   * row, which a merge overwrites or never reads.
   */
  readSparse(column: string, rowGroup: number): SparseVector | null {
    const meta = this.byName.get(column);
    const block = meta?.blocks[rowGroup] ?? null;
    if (meta === undefined || block === null || block.e !== ENCODING_IDS.sparse || block.vl === 0) return null;
    const rowCount = this.footer.rowGroups[rowGroup];
    const what = `column "${column}" block ${rowGroup}`;
    const kind: PhysicalKind = meta.type === 'string' ? 'u32' : meta.type === 'boolean' ? 'u8' : 'f64';
    try {
      const payload = this.readBlob(block, what);
      const validity = payload.subarray(0, block.vl);
      let values: Float64Array | Uint32Array | Uint8Array | null;
      try {
        values = decodeValidValues(block.e, payload.subarray(block.vl), kind, rowCount, validity);
      } catch (err) {
        throw new CorruptDataError(this.path, `${what}: ${(err as Error).message}`);
      }
      if (values === null) return null;
      const valid = rowCount - countNulls(validity, rowCount);
      if (valid !== values.length) throw new CorruptDataError(this.path, `${what}: validity marks ${valid} valid rows, block holds ${values.length}`);
      if (meta.type !== 'string') return { type: meta.type, values, validity, dict: null };
      const dict = this.dictOf(meta);
      let top = 0;
      for (let j = 0; j < values.length; j++) if (values[j] > top) top = values[j];
      if (top >= dict.length) throw new CorruptDataError(this.path, `${what}: code ${top} past its dictionary of ${dict.length}`);
      return { type: meta.type, values, validity, dict };
    } catch (err) {
      throw this.noteDamage(err);
    }
  }

  /** ScanSource.readActorIds; `into` as for readColumn. */
  readActorIds(rowGroup: number, into?: DecodeTarget): Uint32Array {
    const rowCount = this.footer.rowGroups[rowGroup];
    try {
      return this.readBlock(this.footer.actor[rowGroup], 'u32', rowCount, `actor block ${rowGroup}`, into).values as Uint32Array;
    } catch (err) {
      throw this.noteDamage(err);
    }
  }

  /** Reads every block once, so a damaged byte anywhere is found (used by verification). */
  verify(): void {
    for (let g = 0; g < this.footer.rowGroups.length; g++) {
      this.readActorIds(g);
      this.readColumn('$time', g);
      for (const c of this.footer.columns) this.readColumn(c.name, g);
    }
  }

  /**
   * Opens the file again after the descriptor cache closed it; a file whose size is no longer
   * the one this reader knows was replaced, and is refused.
   */
  private readonly reopen = (): number => {
    let fd: number;
    let size: number;
    try {
      fd = openSync(this.path, 'r');
    } catch (err) {
      throw ioError(err, this.path);
    }
    try {
      size = fstatSync(fd).size;
    } catch (err) {
      closeSync(fd);
      throw ioError(err, this.path);
    }
    if (size !== this.fileBytes) {
      closeSync(fd);
      throw new CorruptDataError(this.path, `changed on disk: ${size} bytes, ${this.fileBytes} when first read`);
    }
    return fd;
  };

  close(): void {
    if (this.closed) return;
    this.closed = true;
    segmentFds.close(this);
  }
}

function allNull(meta: ColumnMeta, rowCount: number, dict: string[]): ColumnVector {
  const validity = new Uint8Array((rowCount + 7) >> 3);
  if (meta.type === 'string') return { type: 'string', codes: new Uint32Array(rowCount), dict, validity };
  if (meta.type === 'boolean') return { type: 'boolean', values: new Uint8Array(rowCount), validity };
  return { type: 'number', values: new Float64Array(rowCount), validity };
}
