/**
 * Segment file layout (immutable once written; one file per shard × time partition × flush
 * or compaction):
 *
 *   "SHOALSG1"                                   8-byte magic
 *   block*                                       column blocks and dictionaries, any order
 *   footer                                       msgpack SegmentFooter
 *   u32 LE footer length | u32 LE crc32(footer) | "SHOALEND"     16-byte trailer
 *
 * A block holds one column of one row group: [validity bitmap (vl bytes)][encoded values],
 * LZ4-compressed as a whole when that pays (z = 1), with a crc32 of the stored bytes.
 * String columns store a per-segment dictionary (sorted by UTF-16 code units, so code order is
 * string order) as a blob in the compact form of engine/encodings/string-dict.ts (segments written
 * before it: a msgpack array); their blocks hold u32 codes into it.
 * The actor column is stored as dense per-shard actor ids (`actor` blocks, u32) and the time
 * column as epoch ms (`time` blocks, f64); neither appears in `columns`. A column name or string
 * zone bound holding a lone surrogate is stored as its UTF-16LE bytes (stored-string.ts).
 */
import { fromStoredBytes, isWellFormed, toStoredString } from './stored-string.js';
import type { StoredType } from './typed-column.js';

export const SEGMENT_MAGIC = 'SHOALSG1';
export const SEGMENT_TRAILER_MAGIC = 'SHOALEND';
export const SEGMENT_TRAILER_BYTES = 16;
export const ROW_GROUP_ROWS = 65_536;

export interface BlobRef {
  /** Offset and stored length in the file. */
  o: number;
  l: number;
  /** crc32 of the stored bytes. */
  c: number;
  /** 1 when LZ4-compressed; `r` is then the uncompressed length. */
  z: 0 | 1;
  r: number;
}

export interface BlockRef extends BlobRef {
  /** Encoding id (engine/encodings). */
  e: number;
  /** Validity bitmap bytes at the start of the (uncompressed) payload; 0 = no nulls. */
  vl: number;
  /** Zone map: min/max of non-null values (strings: by code order = string order). */
  min: number | string | null;
  max: number | string | null;
  /** Null rows in the block. */
  nc: number;
}

export interface ColumnMeta {
  name: string;
  type: StoredType;
  dict?: BlobRef;
  /** One block per row group; null when every row of the group is null. */
  blocks: (BlockRef | null)[];
  nullCount: number;
}

export interface SegmentFooter {
  version: 1;
  rowCount: number;
  shard: number;
  partition: number;
  /** Flush generations whose rows this segment holds (inclusive). */
  genMin: number;
  genMax: number;
  minTimeMs: number;
  maxTimeMs: number;
  /** Rows in each row group. */
  rowGroups: number[];
  actor: BlockRef[];
  time: BlockRef[];
  columns: ColumnMeta[];
}

function isBlock(b: unknown): boolean {
  return typeof b === 'object' && b !== null && typeof (b as BlockRef).o === 'number' && typeof (b as BlockRef).l === 'number';
}

/**
 * What is wrong with the shape of a decoded footer, or null when it has every part a reader
 * uses: row groups, an actor block, a time block and a block (or null) per column for each of
 * them, and each string column's dictionary. The checksum vouches for the bytes, this for what they decoded to, so a reader never
 * fails later on a missing part with an error that does not name the file.
 */
export function footerProblem(footer: unknown): string | null {
  if (typeof footer !== 'object' || footer === null) return 'not an object';
  const f = footer as SegmentFooter;
  if (f.version !== 1) return `unknown footer version ${String(f.version)}`;
  for (const key of ['rowCount', 'minTimeMs', 'maxTimeMs'] as const) {
    if (typeof f[key] !== 'number') return `${key} missing`;
  }
  if (!Array.isArray(f.rowGroups) || !f.rowGroups.every((n) => Number.isInteger(n) && n >= 0)) return 'rowGroups missing';
  const groups = f.rowGroups.length;
  if (!Array.isArray(f.actor) || f.actor.length !== groups || !f.actor.every(isBlock)) return 'actor blocks missing';
  if (!Array.isArray(f.time) || f.time.length !== groups || !f.time.every(isBlock)) return 'time blocks missing';
  if (!Array.isArray(f.columns)) return 'columns missing';
  for (const c of f.columns) {
    if (typeof c !== 'object' || c === null || typeof c.name !== 'string' || typeof c.type !== 'string') return 'a column without name or type';
    if (!Array.isArray(c.blocks) || c.blocks.length !== groups || !c.blocks.every((b) => b === null || isBlock(b))) return `blocks of column ${c.name} missing`;
    if (c.type === 'string' && !isBlock(c.dict)) return `dictionary of column ${c.name} missing`;
  }
  return null;
}

/** Whether `v` (a name or a zone bound) must be stored as bytes. */
function illFormed(v: unknown): boolean {
  return typeof v === 'string' && !isWellFormed(v);
}

/** The footer as written: `footer` itself unless a column name or string zone bound holds a lone surrogate. */
export function storedFooter(footer: SegmentFooter): SegmentFooter {
  const odd = footer.columns.some((c) => illFormed(c.name) || c.blocks.some((b) => b !== null && (illFormed(b.min) || illFormed(b.max))));
  if (!odd) return footer;
  const stored = (v: string | number | null): unknown => (typeof v === 'string' ? toStoredString(v) : v);
  const columns = footer.columns.map((c) => ({
    ...c,
    name: stored(c.name),
    blocks: c.blocks.map((b) => (b === null ? null : { ...b, min: stored(b.min), max: stored(b.max) })),
  }));
  return { ...footer, columns } as unknown as SegmentFooter;
}

/** Undoes `storedFooter` on a decoded footer, in place (bytes of another shape are left for footerProblem). */
export function restoreFooter(footer: unknown): void {
  const columns = (footer as Partial<SegmentFooter> | null)?.columns;
  if (!Array.isArray(columns)) return;
  const restored = (v: unknown): unknown => (v instanceof Uint8Array ? (fromStoredBytes(v) ?? v) : v);
  for (const c of columns as unknown[] as Record<string, unknown>[]) {
    if (typeof c !== 'object' || c === null) continue;
    c.name = restored(c.name);
    if (!Array.isArray(c.blocks)) continue;
    for (const b of c.blocks as (Record<string, unknown> | null)[]) {
      if (typeof b !== 'object' || b === null) continue;
      if (b.min instanceof Uint8Array) b.min = restored(b.min);
      if (b.max instanceof Uint8Array) b.max = restored(b.max);
    }
  }
}
