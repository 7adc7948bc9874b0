/**
 * Batches come out of the parsers in typed form (numbers in Float64Arrays, strings as codes of
 * the parse thread's stream dictionaries), and reach the reading thread through the worker wire
 * form. Checked against a reference written here with plain objects (JSON.parse, flatten by
 * hand, route actor and time, keep valid rows): same rows, values and column order, each column
 * in the kind its values call for, for the fast path and the JSON.parse path, batch after batch
 * through one set of stream dictionaries (small ones, so they start over) and their mirrors.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Scalar, Value } from '../../engine/types.js';
import { decodeBatch, DictMirrors, DictStreams, encodeBatch } from '../../ingest/batch-wire.js';
import type { BatchColumn, EventBatch } from '../../ingest/batch.js';
import { parseTask, type ChunkContext } from '../../ingest/parse-chunk.js';
import { parseTime } from '../../ingest/parse-time.js';
import { eventLine, layoutLine, plainLine, typicalLine } from './json-lines.js';

const OPTIONS = { actorColumn: 'user_id', timeColumn: 'time', maxLineBytes: 1 << 20 };

interface RefBatch {
  lines: number[];
  timeMs: number[];
  actors: Scalar[];
  columns: Map<string, Value[]>;
  rejectLines: number[];
}

/** One line the obvious way: JSON.parse, walk the object, route actor and time; null when rejected. */
function refRow(text: string): { actor: Scalar; timeMs: number; fields: Map<string, Value> } | null {
  if (text.trim() === '') return null;
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch {
    return null;
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) return null;
  const fields = new Map<string, Value>();
  let actor: unknown;
  let time: unknown;
  const walk = (o: Record<string, unknown>, prefix: string): void => {
    for (const k of Object.keys(o)) {
      const key = prefix + k;
      const v = o[k];
      if (key === OPTIONS.actorColumn) actor = v;
      else if (key === OPTIONS.timeColumn) time = v;
      // README: an array holding a number JSON cannot write (1e400) rejects its event, as a scalar does.
      else if (Array.isArray(v)) fields.set(key, JSON.stringify(v, (_, x: unknown) => (typeof x === 'number' && !Number.isFinite(x) ? 'bad' : x)) === JSON.stringify(v) ? JSON.stringify(v) : Infinity);
      else if (v !== null && typeof v === 'object') walk(v as Record<string, unknown>, `${key}.`);
      else fields.set(key, v as Value);
    }
  };
  walk(obj as Record<string, unknown>, '');
  // README: an actor is a non-empty string or a finite number.
  if (!((typeof actor === 'string' && actor !== '') || (typeof actor === 'number' && Number.isFinite(actor)))) return null;
  const timeMs = time === undefined || time === null ? null : parseTime(time);
  if (timeMs === null) return null;
  for (const v of fields.values()) if (typeof v === 'number' && !Number.isFinite(v)) return null;
  return { actor, timeMs, fields };
}

function refBatch(lines: string[], firstLine: number): RefBatch {
  const out: RefBatch = { lines: [], timeMs: [], actors: [], columns: new Map(), rejectLines: [] };
  lines.forEach((text, i) => {
    const row = refRow(text);
    if (row === null) {
      out.rejectLines.push(firstLine + i);
      return;
    }
    const n = out.lines.length;
    out.lines.push(firstLine + i);
    out.timeMs.push(row.timeMs);
    out.actors.push(row.actor);
    for (const [key, v] of row.fields) {
      let col = out.columns.get(key);
      if (col === undefined) out.columns.set(key, (col = []));
      while (col.length < n) col.push(null);
      col.push(v);
    }
  });
  for (const col of out.columns.values()) while (col.length < out.lines.length) col.push(null);
  return out;
}

/** The kind plain values call for: numbers (and nulls) 'n', strings (and nulls) 's', else 'v'. */
function expectedKind(values: readonly Value[]): string {
  const numbers = values.some((v) => typeof v === 'number');
  const strings = values.some((v) => typeof v === 'string');
  if (values.some((v) => v !== null && typeof v !== 'number' && typeof v !== 'string')) return 'v';
  if (numbers && strings) return 'v';
  return strings ? 's' : values.includes(null) ? 'n?' : 'n';
}

function kindOf(col: BatchColumn): string {
  return col.t === 'n' && col.nulls !== null ? 'n?' : col.t;
}

/** Plain values of a typed column, read straight from its arrays. */
function valuesOf(col: BatchColumn): Value[] {
  if (col.t === 'v') return col.values;
  if (col.t === 'n') return Array.from(col.values, (v, i) => (col.nulls !== null && col.nulls[i] === 1 ? null : v));
  return Array.from(col.codes, (c) => {
    expect(c).toBeLessThan(col.dict.length);
    return c < 0 ? null : col.dict[c];
  });
}

function expectMatches(batch: EventBatch, ref: RefBatch): void {
  const typed = batch.typed!;
  expect(typed).toBeDefined();
  expect(Array.from(batch.lines)).toEqual(ref.lines);
  expect(Array.from(batch.timeMs)).toEqual(ref.timeMs);
  expect(batch.rejects.map((r) => r.line)).toEqual(ref.rejectLines);
  expect(batch.lineCount).toBe(ref.lines.length + ref.rejectLines.length);
  expect(valuesOf(typed.actors)).toEqual(ref.actors);
  expect(typed.columns.map(([name]) => name)).toEqual([...ref.columns.keys()]);
  for (const [name, col] of typed.columns) {
    const want = ref.columns.get(name)!;
    expect(valuesOf(col), name).toEqual(want); // Object.is on numbers: -0 stays -0
    expect(kindOf(col), name).toBe(expectedKind(want));
  }
  expect(kindOf(typed.actors)).toBe(expectedKind(ref.actors));
}

const line = fc.oneof(eventLine, plainLine, layoutLine, typicalLine);

describe('typed batches', () => {
  it('hold what the reference parse gives, batch after batch, in the form their values call for', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(line, { maxLength: 25 }), { minLength: 1, maxLength: 6 }),
        fc.boolean(),
        fc.integer({ min: 1, max: 8 }),
        fc.constantFrom(-1, 0, 3),
        (chunks, fastPath, maxEntries, deferPast) => {
        const ctx: ChunkContext = { format: 'ndjson', options: OPTIONS, csv: null, fastPath };
        // Lookups deferred (from every batch on, or once a dictionary holds a few strings) and
        // looked up at once must give the very same codes and dictionaries.
        const streams = new DictStreams(maxEntries, deferPast);
        const atOnce = new DictStreams(maxEntries, Infinity);
        const mirrors = new DictMirrors();
        let firstLine = 1;
        const got: [EventBatch, RefBatch][] = [];
        for (const lines of chunks) {
          const text = lines.map((l) => `${l}\n`).join('');
          const batch = parseTask(Buffer.from(text), null, ctx, firstLine, streams);
          const transfer: ArrayBuffer[] = [];
          const wire = encodeBatch(batch, transfer, streams);
          expect(wire).toEqual(encodeBatch(parseTask(Buffer.from(text), null, ctx, firstLine, atOnce), [], atOnce));
          got.push([decodeBatch(structuredClone(wire, { transfer }), mirrors), refBatch(lines, firstLine)]);
          firstLine += lines.length;
        }
        // Read after all were decoded, as storage does: earlier batches keep their strings.
        for (const [batch, ref] of got) expectMatches(batch, ref);
        },
      ),
      { seed: Number(process.env.SEED ?? Date.now()) % 2 ** 31, verbose: 1, numRuns: 300 },
    );
  });

  it('code a string column against the stream dictionary without repeating its strings', () => {
    const ctx: ChunkContext = { format: 'ndjson', options: OPTIONS, csv: null };
    const streams = new DictStreams();
    const lines = (users: string[]): Buffer => Buffer.from(users.map((u, i) => `{"user_id":"${u}","time":${1790000000 + i},"e":"x"}\n`).join(''));
    const first = encodeBatch(parseTask(lines(['a', 'b', 'a']), null, ctx, 1, streams), [], streams);
    const second = encodeBatch(parseTask(lines(['b', 'c']), null, ctx, 4, streams), [], streams);
    expect(first.actors).toMatchObject({ t: 's', dict: ['a', 'b'], base: 0, codes: Int32Array.from([0, 1, 0]) });
    expect(second.actors).toMatchObject({ t: 's', dict: ['c'], base: 2, codes: Int32Array.from([1, 2]) });
    expect(second.columns).toEqual([['e', expect.objectContaining({ t: 's', dict: [], base: 1 })]]);
  });
});
