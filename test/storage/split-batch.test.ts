/**
 * splitBatch against a plain per-row reference: every row lands in its actor's shard, in line
 * order, with its values (a value of another type than the column's stored as null, counted,
 * and reported by line), actor values in first-seen order with dense ids in that order, on the
 * scatter path (typed batch and a split context, as the table uses) and the per-shard path alike.
 */
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import type { BatchColumn, EventBatch } from '../../ingest/batch.js';
import { ActorDict } from '../../engine/storage/actor-dict.js';
import { BufferPool } from '../../engine/storage/buffer-pool.js';
import { actorKey, shardOf } from '../../engine/storage/hash.js';
import { ActorCache, splitBatch, typedColumnOf, type SplitContext } from '../../engine/storage/split-batch.js';
import { TailDicts } from '../../engine/storage/tail-dicts.js';
import { densePart, type StoredType, type TypedColumn } from '../../engine/storage/typed-column.js';
import type { Value } from '../../engine/types.js';

const SHARDS = 4;

interface Input {
  actors: (string | number)[];
  columns: [string, Value[]][];
}

const valueArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom<Value>('a', 'b', 'c', '', '__proto__', 'é') },
  { weight: 3, arbitrary: fc.constantFrom<Value>(0, -1.5, 7, 1e300) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 3, arbitrary: fc.constant(null) },
);

/** Batches of 1–300 rows: a column is all strings, all numbers, or mixed, with or without nulls, or rare. */
const inputArb = fc.integer({ min: 1, max: 300 }).chain((n) =>
  fc.record({
    actors: fc.oneof(
      fc.array(fc.constantFrom('u1', 'u2', 'u3', 'u4', 'u5', 'x'), { minLength: n, maxLength: n }),
      fc.array(fc.oneof(fc.constantFrom('u1', 'u2', 'x'), fc.integer({ min: 0, max: 9 })), { minLength: n, maxLength: n }),
    ),
    columns: fc.array(
      fc.tuple(
        fc.constantFrom('s', 'n', 'm'),
        fc.array(valueArb, { minLength: n, maxLength: n }),
        fc.boolean(),
        // Rare: about one row in 16 has a value, so the scatter path splits the column sparse.
        fc.boolean(),
      ),
      { maxLength: 4 },
    ),
  }).map(({ actors, columns }): Input => ({
    actors,
    columns: columns.map(([kind, values, nullable, rare], k): [string, Value[]] => [
      `c${k}${kind}`,
      values
        .map((v, i) => (rare && i % 16 !== 5 ? null : v === null && !nullable ? 'z' : v))
        .map((v) => (v === null || kind === 'm' ? v : kind === 's' ? (typeof v === 'string' ? v : String(v)) : typeof v === 'number' ? v : 1)),
    ]),
  })),
);

function batchOf(input: Input, typed: boolean): EventBatch {
  const count = input.actors.length;
  const batch: EventBatch = {
    count,
    lines: Int32Array.from({ length: count }, (_, i) => 10 + 2 * i),
    timeMs: Float64Array.from({ length: count }, (_, i) => 1_000 * i),
    actors: input.actors,
    columns: new Map(input.columns),
    rejects: [],
    lineCount: count,
  };
  if (typed) batch.typed = { actors: typedColumnOf(input.actors) as BatchColumn, columns: input.columns.map(([name, v]): [string, BatchColumn] => [name, typedColumnOf(v)]) };
  return batch;
}

/** A column's type is the type of its first non-null value. */
function typesOf(input: Input): Map<string, string> {
  const types = new Map<string, string>();
  for (const [name, col] of input.columns) {
    const first = col.find((v) => v !== null);
    if (first !== undefined) types.set(name, typeof first);
  }
  return types;
}

/** The reference: per shard, rows in line order as [time, actor, values]; conflicts by line. */
function reference(input: Input, types: Map<string, string>): { shards: Map<number, unknown[][]>; conflictLines: number[] } {
  const shards = new Map<number, unknown[][]>();
  const conflictLines: number[] = [];
  input.actors.forEach((actor, i) => {
    const s = shardOf(actorKey(actor), SHARDS);
    const values: Record<string, Value> = {};
    let conflict = false;
    for (const [name, col] of input.columns) {
      const v = col[i];
      if (v === null) continue;
      if (typeof v === types.get(name)) values[name] = v;
      else conflict = true;
    }
    if (conflict) conflictLines.push(10 + 2 * i);
    if (!shards.has(s)) shards.set(s, []);
    shards.get(s)!.push([1_000 * i, actor, values]);
  });
  return { shards, conflictLines };
}

function valueAt(c: TypedColumn, j: number): Value {
  if (c.validity !== null && ((c.validity[j >> 3] >> (j & 7)) & 1) === 0) return null;
  if (c.type === 'string') return c.dict![c.values[j]];
  if (c.type === 'boolean') return c.values[j] === 1;
  return c.values[j];
}

/** A pool whose buffers hold garbage, as a pooled one holds an earlier batch's parts. */
const dirtyPool = new BufferPool(256, 2 ** 26, 10_000, (bytes) => {
  const buffer = new ArrayBuffer(bytes);
  new Uint8Array(buffer).fill(0xa5);
  return buffer;
});

describe('splitBatch', () => {
  it('puts every row in its shard with its values, on both paths', () => {
    let sparseParts = 0;
    fc.assert(
      fc.property(inputArb, fc.boolean(), fc.boolean(), (input, withContext, rowIds) => {
        const ctx: SplitContext | null = withContext
          ? { dicts: new TailDicts(), actors: Array.from({ length: SHARDS }, () => ActorDict.empty()), actorCache: new ActorCache(), pool: dirtyPool }
          : null;
        // A string the rows never use comes first in each generation dictionary, so generation
        // codes differ from the batch's own codes.
        for (const [name] of input.columns) ctx?.dicts.codeOf(ctx.dicts.get(name), '\u0000unused');
        const schema = { types: new Map<string, StoredType>(), maxColumns: 100 };
        const batch = batchOf(input, withContext);
        // An unlogged call's parts carry each row's actor id instead of actor values and codes.
        const { parts, conflicts } = splitBatch(batch, schema, SHARDS, ctx, rowIds);
        const types = typesOf(input);
        expect(schema.types).toEqual(types);
        const want = reference(input, types);
        const got = new Map<number, unknown[][]>();
        for (const p of parts) {
          const rows: unknown[][] = [];
          for (let j = 0; j < p.rowCount; j++) {
            const values: Record<string, Value> = {};
            for (const c of p.columns) {
              if (j === 0 && 'rows' in c) sparseParts++;
              const v = valueAt(densePart(c, p.rowCount), j);
              if (v !== null) values[c.name] = v;
            }
            const actor = p.actorRowIds !== undefined ? ctx!.actors[p.shard].values[p.actorRowIds[j]] : p.actorValues[p.actorCodes[j]];
            rows.push([p.times[j], actor, values]);
          }
          got.set(p.shard, rows);
          // A dense column's null rows hold 0, as in a fresh buffer, whatever the parts' buffer held.
          for (const c of p.columns) {
            if ('rows' in c || c.validity === null) continue;
            for (let j = 0; j < p.rowCount; j++) if (((c.validity[j >> 3] >> (j & 7)) & 1) === 0) expect(c.values[j]).toBe(0);
          }
          // Actor values are distinct, in first-seen order; ids are dense per shard, in that order,
          // whether the part carries them by value or by row.
          if (p.actorRowIds !== undefined) {
            expect(rowIds && withContext).toBe(true);
            expect(p.actorValues).toEqual([]);
            expect([...new Set(p.actorRowIds)]).toEqual(Array.from({ length: ctx!.actors[p.shard].size }, (_, id) => id));
          } else {
            expect(p.actorValues).toEqual([...new Set(rows.map((r) => r[1]))]);
            if (p.actorIds !== undefined) {
              expect(Array.from(p.actorIds, (id) => ctx!.actors[p.shard].values[id])).toEqual(p.actorValues);
              expect(Array.from(p.actorIds)).toEqual(Array.from({ length: p.actorIds.length }, (_, id) => id));
            }
          }
        }
        expect(got).toEqual(want.shards);
        expect(conflicts.map((c) => c.line)).toEqual(want.conflictLines);
        // The same source dictionaries again (as a parse worker's next batch uses them): its
        // scratch left clean, the cached ids reused.
        const plain = (ps: typeof parts): unknown[] =>
          ps.map((p) => [p.shard, p.actorValues, Array.from(p.actorCodes), p.actorIds && Array.from(p.actorIds), p.actorRowIds && Array.from(p.actorRowIds), p.columns.map((c) => Array.from({ length: p.rowCount }, (_, j) => valueAt(densePart(c, p.rowCount), j)))]);
        expect(plain(splitBatch(batch, schema, SHARDS, ctx, rowIds).parts)).toEqual(plain(parts));
        const typeErrors = parts.reduce((n, p) => n + p.typeErrors.reduce((m, [, k]) => m + k, 0), 0);
        const expectedErrors = input.columns.reduce((n, [name, col]) => n + col.filter((v) => v !== null && typeof v !== types.get(name)).length, 0);
        expect(typeErrors).toBe(expectedErrors);
      }),
      { numRuns: 300, verbose: true },
    );
    expect(sparseParts).toBeGreaterThan(0);
  });

  it('maps a growing source dictionary shared by batches once per string, through one context', () => {
    const ctx: SplitContext = { dicts: new TailDicts(), actors: Array.from({ length: SHARDS }, () => ActorDict.empty()), actorCache: new ActorCache() };
    const schema = { types: new Map<string, StoredType>(), maxColumns: 100 };
    // A parse worker's stream dictionary: later batches add strings to the same array.
    const source = ['a', 'b', 'c'];
    const batch = (codes: number[]): EventBatch => {
      const actors = codes.map((_, i) => `u${i}`);
      return {
        count: codes.length,
        lines: Int32Array.from(codes, (_, i) => i + 1),
        timeMs: Float64Array.from(codes, (_, i) => i),
        actors,
        columns: new Map([['s', codes.map((c) => (c < 0 ? null : source[c]))]]),
        rejects: [],
        lineCount: codes.length,
        typed: { actors: typedColumnOf(actors) as BatchColumn, columns: [['s', { t: 's', dict: source, codes: Int32Array.from(codes) }]] },
      };
    };
    const stored = (codes: number[]): Value[] => {
      const { parts } = splitBatch(batch(codes), schema, SHARDS, ctx);
      const byActor = new Map<string | number, Value>();
      for (const p of parts) {
        const col = p.columns.find((c) => c.name === 's');
        for (let j = 0; j < p.rowCount; j++) byActor.set(p.actorValues[p.actorCodes[j]], col === undefined ? null : valueAt(densePart(col, p.rowCount), j));
      }
      return codes.map((_, i) => byActor.get(`u${i}`)!);
    };
    expect(stored([2, 0, -1, 2])).toEqual(['c', 'a', null, 'c']);
    source.push('d', 'e');
    expect(stored([4, 2, 3, -1, 0, 4])).toEqual(['e', 'c', 'd', null, 'a', 'e']);
    // Each string once in the generation's dictionary, in the order rows first held it.
    expect(ctx.dicts.get('s').values).toEqual(['c', 'a', 'e', 'd']);
  });

  it('keeps the id of each actor across batches that share a growing actor source array', () => {
    const ctx: SplitContext = { dicts: new TailDicts(), actors: Array.from({ length: SHARDS }, () => ActorDict.empty()), actorCache: new ActorCache() };
    const schema = { types: new Map<string, StoredType>(), maxColumns: 100 };
    // A parse worker's actor stream dictionary: later batches add actors to the same array,
    // past twice its length, so the cache's arrays grow with ids already assigned.
    const source = ['u0', 'u1', 'u2'];
    const idOf = new Map<string, [number, number]>();
    const split = (codes: number[]): void => {
      const actors = codes.map((c) => source[c]);
      const batch: EventBatch = {
        count: codes.length,
        lines: Int32Array.from(codes, (_, i) => i + 1),
        timeMs: Float64Array.from(codes, (_, i) => i),
        actors,
        columns: new Map(),
        rejects: [],
        lineCount: codes.length,
        typed: { actors: { t: 's', dict: source, codes: Int32Array.from(codes) }, columns: [] },
      };
      for (const p of splitBatch(batch, schema, SHARDS, ctx).parts) {
        expect(p.actorIds).toBeDefined();
        p.actorValues.forEach((v, k) => {
          const id: [number, number] = [p.shard, p.actorIds![k]];
          expect(ctx.actors[p.shard].values[id[1]]).toBe(v);
          // An actor met before keeps its shard and id.
          expect(idOf.get(v as string) ?? id).toEqual(id);
          idOf.set(v as string, id);
        });
      }
    };
    split([2, 0, 1, 0]);
    source.push(...Array.from({ length: 10 }, (_, i) => `v${i}`));
    split([5, 1, 12, 2, 3, 0]);
    split([12, 0, 7]);
    // Each actor once in its shard's dictionary.
    expect(ctx.actors.reduce((n, d) => n + d.size, 0)).toBe(idOf.size);
    expect(idOf.size).toBe(7);
  });

  it('leaves no part-local actor code behind when an actor id lookup fails', () => {
    const ctx: SplitContext = { dicts: new TailDicts(), actors: Array.from({ length: SHARDS }, () => ActorDict.empty()), actorCache: new ActorCache() };
    const schema = { types: new Map<string, StoredType>(), maxColumns: 100 };
    const source = Array.from({ length: 12 }, (_, i) => `u${i}`);
    const batch = (codes: number[]): EventBatch => ({
      count: codes.length,
      lines: Int32Array.from(codes, (_, i) => i + 1),
      timeMs: Float64Array.from(codes, (_, i) => i),
      actors: codes.map((c) => source[c]),
      columns: new Map(),
      rejects: [],
      lineCount: codes.length,
      typed: { actors: { t: 's', dict: source, codes: Int32Array.from(codes) }, columns: [] },
    });
    // Every shard's id lookup fails once, after the first actors of the batch were placed.
    let calls = 0;
    const spies = ctx.actors.map((d) => {
      const idOf = d.idOf.bind(d);
      return vi.spyOn(d, 'idOf').mockImplementation((v) => {
        if (++calls === 4) throw new Error('damaged actor file');
        return idOf(v);
      });
    });
    const codes = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
    expect(() => splitBatch(batch(codes), schema, SHARDS, ctx)).toThrow('damaged actor file');
    // The next batch of the same source: each row keeps its own actor.
    const again = [11, 3, 0, 7, 3, 1];
    const seen: string[] = [];
    for (const p of splitBatch(batch(again), schema, SHARDS, ctx).parts) {
      for (let j = 0; j < p.rowCount; j++) seen.push(p.actorValues[p.actorCodes[j]] as string);
    }
    expect(seen.sort()).toEqual(again.map((c) => source[c]).sort());
    for (const spy of spies) spy.mockRestore();
  });

  it('leaves no queued code behind when the generation lookups fail', () => {
    const ctx: SplitContext = { dicts: new TailDicts(), actors: Array.from({ length: SHARDS }, () => ActorDict.empty()), actorCache: new ActorCache() };
    const schema = { types: new Map<string, StoredType>(), maxColumns: 100 };
    const batch = (strings: (string | null)[]): EventBatch => {
      const actors = strings.map((_, i) => `u${i}`);
      const dict = [...new Set(strings.filter((v) => v !== null))];
      return {
        count: strings.length,
        lines: Int32Array.from(strings, (_, i) => i + 1),
        timeMs: Float64Array.from(strings, (_, i) => i),
        actors,
        columns: new Map([['s', strings]]),
        rejects: [],
        lineCount: strings.length,
        typed: { actors: typedColumnOf(actors) as BatchColumn, columns: [['s', { t: 's', dict, codes: Int32Array.from(strings, (v) => (v === null ? -1 : dict.indexOf(v))) }]] },
      };
    };
    // Generation codes differ from source codes, so a code mapped twice reads another string.
    ctx.dicts.codeOf(ctx.dicts.get('s'), '\u0000unused');
    const lookups = vi.spyOn(ctx.dicts, 'mapCodes').mockImplementationOnce(() => {
      throw new RangeError('out of memory');
    });
    expect(() => splitBatch(batch(['a', 'b', 'a', 'c']), schema, SHARDS, ctx)).toThrow('out of memory');
    // The next batch (new source dictionaries, as the next call has) gets its own strings, and
    // rows of the failed one are not rewritten into it.
    const strings = ['x', 'y', null, 'x', 'z', 'y'];
    const { parts } = splitBatch(batch(strings), schema, SHARDS, ctx);
    expect(lookups).toHaveBeenCalledTimes(2);
    const byActor = new Map<string | number, Value>();
    for (const p of parts) {
      const col = p.columns.find((c) => c.name === 's');
      for (let j = 0; j < p.rowCount; j++) byActor.set(p.actorValues[p.actorCodes[j]], col === undefined ? null : valueAt(densePart(col, p.rowCount), j));
    }
    expect(strings.map((_, i) => byActor.get(`u${i}`))).toEqual(strings);
  });
});
