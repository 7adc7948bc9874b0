/**
 * Test helpers for ingest: run an input through readEvents with given options, and reduce a list
 * of batches to a chunking-independent form (rows with global line numbers, rejects, column
 * order) so inputs cut differently can be compared exactly.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { EventBatch, Reject } from '../../ingest/batch.js';
import type { Scalar, Value } from '../../engine/types.js';
import { readEvents, type ReadOptions } from '../../ingest/index.js';
import type { ReadInternals } from '../../ingest/read-events.js';

export interface Row {
  line: number;
  actor: Scalar;
  timeMs: number;
  /** Non-null values by column, sorted by name (a null and a missing column look the same). */
  values: [string, Value][];
}

export interface Flat {
  rows: Row[];
  rejects: Reject[];
  lineCount: number;
  /** Column names in order of first appearance over the batches. */
  columns: string[];
}

/** Concatenates batches into rows; checks each batch's internal consistency on the way. */
export function flat(batches: EventBatch[]): Flat {
  const out: Flat = { rows: [], rejects: [], lineCount: 0, columns: [] };
  const seen = new Set<string>();
  for (const b of batches) {
    if (b.lines.length !== b.count || b.timeMs.length !== b.count || b.actors.length !== b.count) {
      throw new Error('batch arrays disagree with count');
    }
    if (b.count + b.rejects.length !== b.lineCount) throw new Error(`accepted + rejected != lineCount in a batch`);
    for (const [name, values] of b.columns) {
      if (values.length !== b.count) throw new Error(`column ${name} has ${values.length} values for ${b.count} events`);
      if (!seen.has(name)) {
        seen.add(name);
        out.columns.push(name);
      }
    }
    for (let i = 0; i < b.count; i++) {
      const values: [string, Value][] = [];
      for (const [name, col] of b.columns) if (col[i] !== null) values.push([name, col[i]]);
      values.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
      out.rows.push({ line: b.lines[i], actor: b.actors[i], timeMs: b.timeMs[i], values });
    }
    out.rejects.push(...b.rejects);
    out.lineCount += b.lineCount;
  }
  return out;
}

/** Everything readEvents yields for `input` (bytes), fed as a stream in the given pieces. */
export async function readAll(input: Uint8Array, options: ReadOptions & ReadInternals, pieceBytes?: number[]): Promise<EventBatch[]> {
  const pieces: Buffer[] = [];
  const buf = Buffer.from(input);
  if (pieceBytes === undefined || pieceBytes.length === 0) pieces.push(buf);
  else {
    for (let at = 0, k = 0; at < buf.length; k++) {
      const n = Math.max(1, pieceBytes[k % pieceBytes.length]);
      pieces.push(buf.subarray(at, at + n));
      at += n;
    }
  }
  const out: EventBatch[] = [];
  for await (const b of readEvents(Readable.from(pieces), options)) out.push(b);
  return out;
}

/**
 * Reads `input` from a file (in a fresh temporary directory, removed afterwards): the file's
 * reads are `readBytes` long in turn, the first ones through the input's pieces and, once it is
 * known not to be gzipped, straight into the chunker's windows.
 */
export async function readFileAll(input: Uint8Array, options: ReadOptions & ReadInternals): Promise<EventBatch[]> {
  const dir = mkdtempSync(join(tmpdir(), 'shoal-read-'));
  try {
    const path = join(dir, 'input');
    writeFileSync(path, input);
    const out: EventBatch[] = [];
    for await (const b of readEvents(path, options)) out.push(b);
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Lines accepted plus lines rejected, over batches. */
export function accounted(batches: EventBatch[]): { accepted: number; rejected: number; lines: number } {
  let accepted = 0;
  let rejected = 0;
  let lines = 0;
  for (const b of batches) {
    accepted += b.count;
    rejected += b.rejects.length;
    lines += b.lineCount;
  }
  return { accepted, rejected, lines };
}

/** The one batch of a small input. */
export function only(batches: EventBatch[]): EventBatch {
  if (batches.length !== 1) throw new Error(`expected one batch, got ${batches.length}`);
  return batches[0];
}

/** A column's values, or undefined. */
export function col(b: EventBatch, name: string): Value[] | undefined {
  return b.columns.get(name);
}
