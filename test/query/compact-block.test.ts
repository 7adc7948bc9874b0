/**
 * Narrowed cache blocks (engine/query/pool/compact-block.ts) and the block cache narrowing
 * under pressure: a narrowed block widens back bit for bit; a hit hands out the same array
 * for the same block (executors cache per-block work by array identity) and never another
 * block's contents; and queries through a cache that had to narrow stay exactly runQuery's,
 * run after run, with the narrowed blocks hit (sampled ones too, whose boundary shard gathers
 * its columns into reused buffers) — and through one that declines most blocks, which are
 * decoded into reused buffers too.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runQuery } from '../../engine/query/index.js';
import type { TableSnapshot } from '../../engine/query/index.js';
import { BlockCache } from '../../engine/query/pool/block-cache.js';
import { compactColumn, compactIds, expandColumn, expandIds, narrowBlock } from '../../engine/query/pool/compact-block.js';
import type { ColumnVector } from '../../engine/types.js';
import { rng } from '../helpers/memory-snapshot.js';
import { batchOf, type PlainEvent } from '../storage/helpers.js';
import { openFixture, runThroughCache } from './pool-fixtures.js';

const sameBits = (a: ArrayLike<number>, b: ArrayLike<number>): boolean => a.length === b.length && Array.from(a).every((v, i) => Object.is(v, b[i]));

describe('narrowed blocks', () => {
  const number = fc.oneof(
    fc.integer({ min: -1000, max: 1000 }),
    fc.integer({ min: 0, max: 70_000 }),
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 }),
    fc.constantFrom(1.7e12, 1.7e12 + 86_399_999, 2 ** 53, -(2 ** 53), 0, -0, 0.5, NaN, Infinity, -Infinity),
    fc.double(),
  );

  it('number and time blocks widen back bit for bit', () => {
    fc.assert(
      fc.property(fc.array(number, { minLength: 1, maxLength: 300 }), fc.boolean(), (list, time) => {
        const values = Float64Array.from(list);
        const validity = time ? null : Uint8Array.from({ length: (list.length + 7) >> 3 }, (_, i) => (i * 37) & 255);
        const v = { type: time ? 'time' : 'number', values, validity } as ColumnVector;
        const back = expandColumn(compactColumn(v), 'c:x') as Extract<ColumnVector, { type: 'number' | 'time' }>;
        expect(back.type).toBe(v.type);
        expect(sameBits(back.values, values)).toBe(true);
        expect(back.validity).toBe(validity);
      }),
      { numRuns: 500 },
    );
  });

  it('narrows only what comes back exactly: integers whose span fits 32 bits', () => {
    const form = (values: number[]): string => compactColumn({ type: 'number', values: Float64Array.from(values), validity: null }).form;
    expect(form([1.7e12, 1.7e12 + 86_400_000])).toBe('floats');
    expect(form([-5, 3, 250])).toBe('floats');
    expect(form([0, 2 ** 32])).toBe('decoded');
    expect(form([1, 1.5])).toBe('decoded');
    expect(form([1, -0])).toBe('decoded');
    expect(form([1, NaN])).toBe('decoded');
    expect(form([2 ** 53, 2 ** 53 + 2])).toBe('decoded');
  });

  it('sorted actor ids are held as runs when that is smaller, and widen back exactly', () => {
    const ofRuns = (runs: [number, number][]): Uint32Array => Uint32Array.from(runs.flatMap(([id, length]) => Array<number>(length).fill(id)));
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 2 ** 32 - 1 }), fc.integer({ min: 1, max: 40 })), { minLength: 1, maxLength: 200 }), (runs) => {
        const ids = ofRuns(runs);
        const block = compactIds(ids);
        let count = 1;
        for (let i = 1; i < ids.length; i++) if (ids[i] !== ids[i - 1]) count++;
        if (count * 6 < ids.length) expect(block.form).toBe('runs');
        expect(sameBits(expandIds(block, 'a:'), ids)).toBe(true);
        // Widened again (a later hit) it is the same array with the same contents.
        expect(expandIds(block, 'a:')).toBe(expandIds(block, 'a:'));
        expect(sameBits(expandIds(block, 'a:'), ids)).toBe(true);
      }),
      { numRuns: 300 },
    );
    // One run; and a block past 65,536 rows, whose run starts need 32 bits.
    const one = ofRuns([[7, 500]]);
    expect(compactIds(one).form).toBe('runs');
    expect(sameBits(expandIds(compactIds(one), 'a:'), one)).toBe(true);
    const long = ofRuns([[3, 40_000], [2 ** 31, 30_000], [5, 10]]);
    const held = compactIds(long);
    expect(held.form).toBe('runs');
    expect(sameBits(expandIds(held, 'a:'), long)).toBe(true);
    // At the 16-bit edge of run starts: a last run of one row starting at row 65,535 or 65,536.
    for (const rows of [65_536, 65_537]) {
      const edge = ofRuns([[1, 30_000], [9, rows - 30_001], [4, 1]]);
      expect(sameBits(expandIds(compactIds(edge), 'a:'), edge)).toBe(true);
    }
    // Two run blocks widened in turn through one scratch key: each keeps its own array, with its own ids.
    const a = ofRuns([[1, 300], [2, 300]]);
    const b = ofRuns([[7, 200], [8, 400]]);
    const [heldA, heldB] = [compactIds(a), compactIds(b)];
    const viewA = expandIds(heldA, 'a:');
    const viewB = expandIds(heldB, 'a:');
    expect(viewA).not.toBe(viewB);
    expect(sameBits(expandIds(heldA, 'a:'), a)).toBe(true);
    expect(expandIds(heldA, 'a:')).toBe(viewA);
    expect(sameBits(expandIds(heldB, 'a:'), b)).toBe(true);
  });

  it('actor ids and string codes widen back exactly', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { minLength: 1, maxLength: 300 }), fc.integer({ min: 0, max: 3 }), (list, shift) => {
        const ids = Uint32Array.from(list, (x) => x >>> (8 * shift));
        expect(sameBits(expandIds(compactIds(ids), 'a:'), ids)).toBe(true);
      }),
      { numRuns: 300 },
    );
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 70_000 }), fc.array(fc.nat(), { minLength: 1, maxLength: 300 }), (size, raw) => {
        const dict = Array.from({ length: size }, (_, i) => `v${i}`);
        const codes = Uint32Array.from(raw, (x) => x % size);
        const v: ColumnVector = { type: 'string', codes, dict, validity: null };
        const back = expandColumn(compactColumn(v), 'c:s') as Extract<ColumnVector, { type: 'string' }>;
        expect(sameBits(back.codes, codes)).toBe(true);
        expect(back.dict).toBe(dict);
      }),
      { numRuns: 200 },
    );
    // A null row may hold a code past the dictionary: it comes back too.
    const nulls: ColumnVector = { type: 'string', codes: Uint32Array.from([0, 300, 1]), dict: ['a', 'b'], validity: Uint8Array.from([0b101]) };
    expect(Array.from((expandColumn(compactColumn(nulls), 'c:n') as { codes: Uint32Array }).codes)).toEqual([0, 300, 1]);
  });

  it('hands out one array per block, with that block’s values even after other blocks of the column', () => {
    const a = narrowBlock({ form: 'decoded', block: { type: 'time', values: Float64Array.from([10, 20, 30]), validity: null } });
    const b = narrowBlock({ form: 'decoded', block: { type: 'time', values: Float64Array.from([7, 8, 9]), validity: null } });
    const values = (x: typeof a): number[] => Array.from((expandColumn(x, 'c:$time') as { values: Float64Array }).values);
    const first = (expandColumn(a, 'c:$time') as { values: Float64Array }).values;
    expect(values(b)).toEqual([7, 8, 9]);
    expect(values(a)).toEqual([10, 20, 30]);
    expect((expandColumn(a, 'c:$time') as { values: Float64Array }).values).toBe(first);
    expect((expandColumn(b, 'c:$time') as { values: Float64Array }).values).not.toBe(first);
  });
});

describe('BlockCache narrowing', () => {
  const ids = (n: number, base: number): Uint32Array => Uint32Array.from({ length: n }, (_, i) => base + (i % 200));

  it('keeps a working set that fits decoded as it is, and narrows one that does not', () => {
    const roomy = new BlockCache(64 * 1024);
    const block = ids(1024, 5_000_000); // 4 KiB decoded, 1 KiB narrowed
    roomy.set('k', { form: 'decoded', block }, 1);
    expect(expandIds(roomy.get('k', 2)!, 'a:')).toBe(block);
    expect(roomy.narrowed).toBe(0);

    const tight = new BlockCache(10 * 1024);
    for (let run = 1; run <= 3; run++) {
      for (let b = 0; b < 8; b++) {
        const key = `b${b}`;
        const hit = tight.get(key, run);
        const got = hit === undefined ? ids(1024, b * 1_000_000) : expandIds(hit, 'a:');
        if (hit === undefined) tight.set(key, { form: 'decoded', block: got }, run);
        expect(sameBits(got, ids(1024, b * 1_000_000))).toBe(true);
      }
      expect(tight.bytes).toBeLessThanOrEqual(tight.budgetBytes);
    }
    // 8 blocks of 4 KiB in 10 KiB: narrowed, all of them fit, so runs 2 and 3 hit every block.
    expect(tight.narrowed).toBeGreaterThan(0);
    expect(tight.hits).toBe(16);
    expect(tight.declined).toBe(0);
  });
});

/** Events over 3 days with integer and fractional numbers, a negative integer column and strings. */
function events(n: number, seed: number): PlainEvent[] {
  const rand = rng(seed);
  const base = Date.UTC(2026, 0, 5);
  const kinds = ['view', 'search', 'cart', 'buy', 'share'];
  return Array.from({ length: n }, () => {
    const e: PlainEvent = {
      user: `u${Math.floor(rand() ** 2 * 3000)}`,
      timeMs: base + Math.floor(rand() * 3 * 86_400_000),
      event: kinds[Math.floor(rand() * kinds.length)],
      country: ['DE', 'FR', 'US', 'IN'][Math.floor(rand() * 4)],
      status: [200, 200, 200, 404, 500][Math.floor(rand() * 5)],
      delta: Math.floor(rand() * 2000) - 1000,
      latency: Math.floor(rand() * 5000) / 4,
    };
    if (rand() < 0.1) delete e.status;
    return e;
  });
}

describe('queries through a narrowing block cache', () => {
  it('answer exactly what runQuery answers, run after run, from narrowed blocks and from declined ones', async () => {
    const fx = await openFixture();
    try {
      const all = events(120_000, 7);
      for (let i = 0; i < all.length; i += 30_000) await fx.table.ingest(batchOf(all.slice(i, i + 30_000), i + 1));
      await fx.table.flush();
      const snapshot: TableSnapshot = fx.table.snapshot();
      try {
        const queries = [
          { groupBy: ['event'], measures: ['count', 'uniq($actor)', 'p90(latency)', 'sum(status)', 'min(delta)', 'max(delta)', 'avg(status)'] },
          { groupBy: ['event'], measures: ['count'] },
          { where: ['country', '=', 'FR'], measures: ['count'] },
          { where: ['status', '>=', 404], groupBy: ['country'], measures: ['count', 'median(delta)', 'p99(latency)'] },
          { bucket: '1h', measures: ['count', 'uniq($actor)'], where: ['event', '=', 'buy'] },
          { kind: 'funnel', steps: [['event', '=', 'view'], ['event', '=', 'cart'], ['event', '=', 'buy']], window: '1d', groupBy: ['country'] },
          { kind: 'sessions', gap: '30m', groupBy: ['country'], measures: ['count', 'p90(duration)', 'avg(events)'] },
          { kind: 'retention', start: ['event', '=', 'view'], period: '1d', periods: 2 },
          // sampled: shard 0 whole and a slice of shard 1's actors, whose columns are gathered
          { sample: 0.1, groupBy: ['country'], measures: ['count', 'uniq($actor)', 'p90(latency)'] },
          { sample: 0.1, kind: 'funnel', steps: [['event', '=', 'view'], ['event', '=', 'buy']], window: '1d' },
        ].map((q) => ({ table: 't', ...q }));
        const expected = await Promise.all(queries.map((q) => runQuery(snapshot, q)));
        const run = (cache: BlockCache, epoch: number): unknown[] => queries.map((q) => runThroughCache(snapshot, q, cache, epoch));
        // The decoded size of every block the queries read, then a budget that holds them only narrowed.
        const roomy = new BlockCache(2 ** 30);
        run(roomy, 1);
        const tight = new BlockCache(Math.floor(roomy.bytes * 0.6));
        for (let round = 1; round <= 3; round++) {
          const hits = tight.hits;
          const rows = run(tight, round);
          rows.forEach((r, i) => expect(r, `round ${round}: ${JSON.stringify(queries[i])}`).toEqual(expected[i].rows));
          if (round > 1) expect(tight.hits).toBeGreaterThan(hits);
          expect(tight.bytes).toBeLessThanOrEqual(tight.budgetBytes);
        }
        expect(tight.narrowed).toBeGreaterThan(0);
        // A budget for a few blocks: most are declined, decoded into each column's reused buffer
        // (a new view per block), and per-block values derived by array identity stay per block.
        const scant = new BlockCache(Math.floor(roomy.bytes * 0.05));
        for (let round = 1; round <= 3; round++) {
          const rows = run(scant, round);
          rows.forEach((r, i) => expect(r, `scant cache, round ${round}: ${JSON.stringify(queries[i])}`).toEqual(expected[i].rows));
        }
        expect(scant.declined).toBeGreaterThan(scant.hits);
      } finally {
        snapshot.release();
      }
    } finally {
      await fx.cleanup();
    }
  });
});
