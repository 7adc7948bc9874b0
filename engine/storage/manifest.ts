/**
 * The table manifest: which segments make up the table, its configuration and schema, the
 * actor-dictionary lengths and the first WAL generation still needed. It is the single commit
 * point of flushes and compactions.
 *
 * On disk: `manifest.json` = {"crc": crc32(body JSON), "body": {...}}, replaced atomically
 * (write temp, fsync, rename, fsync directory). A manifest whose crc fails is reported by name.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { CorruptDataError } from '../errors.js';
import { ioError, writeFileAtomic } from './file-io.js';
import type { StoredType } from './typed-column.js';

export const MANIFEST_FILE = 'manifest.json';

export interface SegmentEntry {
  file: string;
  shard: number;
  partition: number;
  genMin: number;
  genMax: number;
  rowCount: number;
  minTimeMs: number;
  maxTimeMs: number;
  bytes: number;
  /** Null rows per column present in the segment. */
  nulls: Record<string, number>;
}

export interface ManifestBody {
  version: 1;
  table: string;
  actorColumn: string;
  timeColumn: string;
  shardCount: number;
  createdAtMs: number;
  /** Columns in order of first appearance. */
  schema: [string, StoredType][];
  /** Actor ids durable per shard (length of each actors file). */
  actorCounts: number[];
  /** WAL generations below this are flushed and may be deleted. */
  walGeneration: number;
  /** Next number for a segment file name. */
  nextSegment: number;
  segments: SegmentEntry[];
  /** Type errors per column, from flushed generations. */
  typeErrors: Record<string, number>;
  /** Wall time of the last acknowledged ingest that has been flushed (ms). */
  lastIngestMs: number | null;
}

/**
 * An empty (or copied) count by column name with no prototype, so a column named "constructor",
 * "toString" or "__proto__" is an ordinary key (JSON keeps it as one) and not Object.prototype's.
 */
export function countsByName(from: Record<string, number> = {}): Record<string, number> {
  const out = Object.create(null) as Record<string, number>;
  for (const [name, n] of Object.entries(from)) out[name] = n;
  return out;
}

/** The count kept for `name`, or undefined (a record read back from JSON inherits Object.prototype). */
export function countOf(counts: Record<string, number>, name: string): number | undefined {
  return Object.hasOwn(counts, name) ? counts[name] : undefined;
}

export function newManifest(table: string, actorColumn: string, timeColumn: string, shardCount: number): ManifestBody {
  return {
    version: 1,
    table,
    actorColumn,
    timeColumn,
    shardCount,
    createdAtMs: Date.now(),
    schema: [],
    actorCounts: new Array(shardCount).fill(0),
    walGeneration: 1,
    nextSegment: 1,
    segments: [],
    typeErrors: countsByName(),
    lastIngestMs: null,
  };
}

export function manifestPath(dir: string): string {
  return join(dir, MANIFEST_FILE);
}

export function readManifest(dir: string): ManifestBody | null {
  const path = manifestPath(dir);
  if (!existsSync(path)) return null;
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw ioError(err, path);
  }
  let parsed: { crc?: unknown; body?: unknown };
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new CorruptDataError(path, 'not valid JSON');
  }
  const bodyText = JSON.stringify(parsed.body);
  if (typeof parsed.crc !== 'number' || crc32(Buffer.from(bodyText, 'utf8')) !== parsed.crc) {
    throw new CorruptDataError(path, 'checksum mismatch');
  }
  const body = parsed.body as ManifestBody;
  if (body?.version !== 1) throw new CorruptDataError(path, 'unknown manifest version');
  return body;
}

export function writeManifest(dir: string, body: ManifestBody): void {
  const bodyText = JSON.stringify(body);
  const text = `{"crc":${crc32(Buffer.from(bodyText, 'utf8'))},"body":${bodyText}}\n`;
  writeFileAtomic(manifestPath(dir), Buffer.from(text, 'utf8'), dir);
}
