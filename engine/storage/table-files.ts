/**
 * Where a table's files live. Names are built only from numbers and fixed words, never from
 * user input (table names are validated against [a-z][a-z0-9_]{0,62} before reaching here).
 *
 *   <table>/manifest.json            the commit point (manifest.ts)
 *   <table>/deadletter.ndjson        rejected lines (dead-letter.ts)
 *   <table>/shard-NN.actors          actor dictionary per shard (actor-dict.ts)
 *   <table>/segments/NNNNNNNN-sNN-pNNNNN.seg   immutable segments (segment-format.ts)
 *   <table>/wal/gNNNNNNNN-sNN.wal    write-ahead log per generation and shard (wal.ts)
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

export const SEGMENTS_DIR = 'segments';
export const WAL_DIR = 'wal';

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

export function actorsPath(tableDir: string, shard: number): string {
  return join(tableDir, `shard-${pad(shard, 2)}.actors`);
}

export function segmentName(seq: number, shard: number, partition: number): string {
  return `${pad(seq, 8)}-s${pad(shard, 2)}-p${partition}.seg`;
}

export function segmentPath(tableDir: string, file: string): string {
  return join(tableDir, SEGMENTS_DIR, file);
}

export function walPath(tableDir: string, generation: number, shard: number): string {
  return join(tableDir, WAL_DIR, `g${pad(generation, 8)}-s${pad(shard, 2)}.wal`);
}

export interface WalFile {
  path: string;
  generation: number;
  shard: number;
}

/** WAL files present on disk, by generation then shard. */
export function listWalFiles(tableDir: string): WalFile[] {
  const dir = join(tableDir, WAL_DIR);
  const out: WalFile[] = [];
  for (const name of safeReaddir(dir)) {
    const m = /^g(\d+)-s(\d+)\.wal$/.exec(name);
    if (m) out.push({ path: join(dir, name), generation: Number(m[1]), shard: Number(m[2]) });
  }
  return out.sort((a, b) => a.generation - b.generation || a.shard - b.shard);
}

export function listSegmentFiles(tableDir: string): string[] {
  return safeReaddir(join(tableDir, SEGMENTS_DIR));
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
