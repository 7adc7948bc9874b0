/**
 * Funnel edge cases on tiny literal tables, with expectations worked out by hand from
 * PRODUCT.md: ties in time, steps before entry, the inclusive window boundary, actors entering
 * twice, strict and any modes, exclusions, 20 steps, breakdowns and conversion over time.
 */
import { describe, expect, it } from 'vitest';
import { runQuery } from '../../engine/query/index.js';
import type { Value } from '../../engine/types.js';
import { memorySnapshot, type Event } from '../helpers/memory-snapshot.js';

const T = Date.UTC(2024, 4, 1, 12);
const MIN = 60_000;
const H = 3_600_000;
const DAY = 86_400_000;

const ev = (user: string, time: number, event: string, extra: Record<string, unknown> = {}): Event => ({ user_id: user, time, event, ...extra });

async function funnel(events: Event[], query: Record<string, unknown>, layouts = [1, 2, 3]): Promise<{ columns: string[]; rows: Value[][] }> {
  let first: { columns: string[]; rows: Value[][] } | null = null;
  // The same answer whatever the shard/source/row-group layout.
  for (const seed of layouts) {
    const r = await runQuery(memorySnapshot(events, { seed, shards: seed === 1 ? 1 : 4, maxRowGroup: seed }), { table: 't', kind: 'funnel', ...query });
    const out = { columns: r.columns.map((c) => c.name), rows: r.rows };
    if (first === null) first = out;
    else expect(out).toEqual(first);
  }
  return first!;
}

/** Column values of the only row (or row i) by name. */
function col(r: { columns: string[]; rows: Value[][] }, name: string, row = 0): Value {
  return r.rows[row][r.columns.indexOf(name)];
}

const VIEW = ['event', '=', 'view'];
const CART = ['event', '=', 'cart'];
const BUY = ['event', '=', 'buy'];

describe('funnel', () => {
  it('orders events with equal timestamps by arrival', async () => {
    const r = await funnel([ev('a', T, 'view'), ev('a', T, 'cart'), ev('b', T, 'cart'), ev('b', T, 'view')], { steps: [VIEW, CART] });
    expect(col(r, 'step1')).toBe(2);
    expect(col(r, 'step2')).toBe(1); // b's cart arrived before its view
    expect(col(r, 'step2_median_ms')).toBe(0);
  });

  it('ignores a step event before the entry event', async () => {
    const events = [ev('a', T - H, 'cart'), ev('a', T, 'view')];
    expect(col(await funnel(events, { steps: [VIEW, CART] }), 'step2')).toBe(0);
    expect(col(await funnel(events, { steps: [VIEW, CART], from: T - 30 * MIN }), 'step2')).toBe(0);
  });

  it('counts a step exactly at the window boundary, not one ms later', async () => {
    const events = [ev('a', T, 'view'), ev('a', T + H, 'cart'), ev('b', T, 'view'), ev('b', T + H + 1, 'cart')];
    const r = await funnel(events, { steps: [VIEW, CART], window: '1h' });
    expect([col(r, 'step1'), col(r, 'step2'), col(r, 'step2_conversion')]).toEqual([2, 1, 0.5]);
  });

  it('lets later steps fall after `to` but not the entry', async () => {
    const events = [ev('a', T, 'view'), ev('a', T + 2 * H, 'cart'), ev('b', T + 3 * H, 'view'), ev('b', T + 3 * H + 1, 'cart')];
    const r = await funnel(events, { steps: [VIEW, CART], from: T - H, to: T + H });
    expect([col(r, 'step1'), col(r, 'step2')]).toEqual([1, 1]);
  });

  it('counts an actor entering twice once, at its best chain, grouped by its first entry', async () => {
    const events = [
      ev('a', T, 'view', { country: 'fr' }),
      ev('a', T + 2 * DAY, 'view', { country: 'de' }),
      ev('a', T + 2 * DAY + H, 'cart', { country: 'de' }),
      ev('b', T, 'view', { country: 'de' }),
    ];
    const r = await funnel(events, { steps: [VIEW, CART], window: '1d', groupBy: ['country'] });
    expect(r.rows).toEqual([
      ['de', 1, 1, 0, 0, null, null],
      ['fr', 1, 1, 1, 1, H, H],
    ]);
  });

  it('takes the shortest time to convert over all valid chains', async () => {
    // Entries at 0 and 50m; carts at 60m: the second entry gives 10 minutes.
    const events = [ev('a', T, 'view'), ev('a', T + 50 * MIN, 'view'), ev('a', T + 60 * MIN, 'cart'), ev('a', T + 61 * MIN, 'buy')];
    const r = await funnel(events, { steps: [VIEW, CART, BUY] });
    expect(col(r, 'step2_median_ms')).toBe(10 * MIN);
    expect(Math.abs((col(r, 'step3_median_ms') as number) - 11 * MIN)).toBeLessThanOrEqual(0.01 * 11 * MIN);
  });

  it('gives nearest-rank median and p90 of per-actor times within 1%', async () => {
    const events: Event[] = [];
    for (let i = 1; i <= 10; i++) events.push(ev(`u${i}`, T, 'view'), ev(`u${i}`, T + i * MIN, 'cart'));
    const r = await funnel(events, { steps: [VIEW, CART] });
    expect(Math.abs((col(r, 'step2_median_ms') as number) - 5 * MIN)).toBeLessThanOrEqual(0.01 * 5 * MIN);
    expect(Math.abs((col(r, 'step2_p90_ms') as number) - 9 * MIN)).toBeLessThanOrEqual(0.01 * 9 * MIN);
  });

  it('needs distinct events for consecutive steps, even when one event matches both', async () => {
    const both = ['event', 'in', ['view', 'cart']];
    expect(col(await funnel([ev('a', T, 'view')], { steps: [VIEW, both] }), 'step2')).toBe(0);
    expect(col(await funnel([ev('a', T, 'view'), ev('a', T + 1, 'view')], { steps: [VIEW, both] }), 'step2')).toBe(1);
    expect(col(await funnel([ev('a', T, 'view'), ev('a', T + 1, 'view')], { steps: [VIEW, VIEW, VIEW] }), 'step3')).toBe(0);
  });

  it('strict mode needs each step to be the very next event (after `where`)', async () => {
    const events = [ev('a', T, 'view'), ev('a', T + 1, 'scroll'), ev('a', T + 2, 'cart')];
    expect(col(await funnel(events, { steps: [VIEW, CART], mode: 'strict' }), 'step2')).toBe(0);
    expect(col(await funnel(events, { steps: [VIEW, CART], mode: 'ordered' }), 'step2')).toBe(1);
    expect(col(await funnel(events, { steps: [VIEW, CART], mode: 'strict', where: ['event', '!=', 'scroll'] }), 'step2')).toBe(1);
  });

  it('any mode counts distinct steps in any order within the window of the first', async () => {
    const events = [ev('a', T, 'cart'), ev('a', T + 10 * MIN, 'view'), ev('b', T, 'buy'), ev('b', T + 2 * DAY, 'view')];
    const any = await funnel(events, { steps: [VIEW, CART, BUY], mode: 'any' });
    expect([col(any, 'step1'), col(any, 'step2'), col(any, 'step3')]).toEqual([2, 1, 0]);
    expect(col(any, 'step2_median_ms')).toBe(10 * MIN);
    const ordered = await funnel(events, { steps: [VIEW, CART, BUY] });
    expect([col(ordered, 'step1'), col(ordered, 'step2')]).toEqual([2, 0]);
  });

  it('any mode over an actor with a hundred thousand events stays linear in its events', async () => {
    // A bot: 100,000 views a millisecond apart, one cart at the end, never a buy. Every view is
    // an entry whose window holds all the others; only the cart can grow a matching.
    const n = 100_000;
    const events: Event[] = Array.from({ length: n }, (_, i) => ev('bot', T + i, 'view'));
    events.push(ev('bot', T + n + 5, 'cart'), ev('p', T, 'view'), ev('p', T + 1, 'view'), ev('p', T + 2, 'view'));
    const both = ['event', 'in', ['view', 'cart']];
    const r = await funnel(events, { steps: [VIEW, CART, BUY], mode: 'any' }, [1]);
    expect([col(r, 'step1'), col(r, 'step2'), col(r, 'step3')]).toEqual([2, 1, 0]);
    expect(col(r, 'step2_median_ms')).toBe(6); // from the last view
    // Events matching two steps: two views fill both, a third adds nothing.
    const r2 = await funnel(events, { steps: [VIEW, both, BUY], mode: 'any' }, [1]);
    expect([col(r2, 'step1'), col(r2, 'step2'), col(r2, 'step3')]).toEqual([2, 2, 0]);
    expect(col(r2, 'step2_median_ms')).toBe(1);
  });

  it('voids a chain with an excluded event strictly between the two steps', async () => {
    const exclude = [{ filter: ['event', '=', 'remove'], after: 1, before: 2 }];
    const between = [ev('a', T, 'view'), ev('a', T + 1, 'remove'), ev('a', T + 2, 'cart')];
    const outside = [ev('b', T, 'view'), ev('b', T + 1, 'cart'), ev('b', T + 2, 'remove')];
    const retry = [ev('c', T, 'view'), ev('c', T + 1, 'remove'), ev('c', T + 2, 'view'), ev('c', T + 3, 'cart')];
    expect(col(await funnel(between, { steps: [VIEW, CART], exclude }), 'step2')).toBe(0);
    expect(col(await funnel(outside, { steps: [VIEW, CART], exclude }), 'step2')).toBe(1);
    expect(col(await funnel(retry, { steps: [VIEW, CART], exclude }), 'step2')).toBe(1);
  });

  it('lets a chain with an excluded event reach the steps before the excluded range ends', async () => {
    const exclude = [{ filter: ['event', '=', 'remove'], after: 1, before: 3 }];
    const events = [ev('a', T, 'view'), ev('a', T + 1, 'remove'), ev('a', T + 2, 'cart'), ev('a', T + 3, 'buy')];
    const r = await funnel(events, { steps: [VIEW, CART, BUY], exclude });
    expect([col(r, 'step2'), col(r, 'step3')]).toEqual([1, 0]);
  });

  it('handles 20 steps', async () => {
    const steps = Array.from({ length: 20 }, (_, i) => ['event', '=', `s${i + 1}`]);
    const events: Event[] = [];
    for (let i = 1; i <= 20; i++) events.push(ev('full', T + i * MIN, `s${i}`));
    for (let i = 1; i <= 10; i++) events.push(ev('half', T + i * MIN, `s${i}`));
    const r = await funnel(events, { steps });
    expect([col(r, 'step10'), col(r, 'step11'), col(r, 'step20'), col(r, 'step20_conversion')]).toEqual([2, 1, 1, 0.5]);
    expect(Math.abs((col(r, 'step20_median_ms') as number) - 19 * MIN)).toBeLessThanOrEqual(0.01 * 19 * MIN);
  });

  it('shows conversion over time by the bucket of each actor\'s first entry', async () => {
    const events = [
      ev('a', T, 'view'), ev('a', T + H, 'cart'),
      ev('b', T + DAY, 'view'),
      ev('c', T + DAY + H, 'view'), ev('c', T + DAY + 2 * H, 'cart'),
      ev('d', T + DAY + 3 * H, 'view'),
    ];
    const day = Date.UTC(2024, 4, 1);
    const r = await funnel(events, { steps: [VIEW, CART], bucket: '1d', from: day, to: day + 3 * DAY });
    expect(r.columns.slice(0, 5)).toEqual(['$bucket', 'step1', 'step1_conversion', 'step2', 'step2_conversion']);
    expect(r.rows.map((row) => row.slice(0, 5))).toEqual([
      [day, 1, 1, 1, 1],
      [day + DAY, 3, 1, 1, 1 / 3],
      [day + 2 * DAY, 0, 0, 0, 0],
    ]);
  });

  it('ranks groups by step1, keeps `limit`, and folds the rest into $other', async () => {
    const events = [ev('a', T, 'view', { c: 'x' }), ev('b', T, 'view', { c: 'x' }), ev('b', T + 1, 'cart', { c: 'x' }), ev('c', T, 'view', { c: 'y' }), ev('d', T, 'view', { c: 'z' }), ev('d', T + 1, 'cart')];
    const r = await funnel(events, { steps: [VIEW, CART], groupBy: ['c'], limit: 1, other: true });
    expect(r.rows.map((row) => row.slice(0, 4))).toEqual([['x', 2, 1, 1], ['$other', 2, 1, 1]]);
  });

  it('fails with QUERY_MEMORY_EXCEEDED when a shard\'s gathered events do not fit the memory budget', async () => {
    // Strict mode gathers the shard's events (the streamed ordered funnel keeps only per-actor state).
    const events = Array.from({ length: 500 }, (_, i) => ev(`u${i % 7}`, T + i, i % 2 === 0 ? 'view' : 'cart'));
    const snapshot = memorySnapshot(events, { shards: 1 });
    const q = { table: 't', kind: 'funnel', steps: [VIEW, CART], mode: 'strict' };
    await expect(runQuery(snapshot, q, { memoryBudgetBytes: 4000 })).rejects.toMatchObject({ code: 'QUERY_MEMORY_EXCEEDED' });
    await expect(runQuery(snapshot, q, { memoryBudgetBytes: 1 << 20 })).resolves.toBeDefined();
  });

  it('returns one row of zeros over no data', async () => {
    const r = await funnel([ev('a', T, 'other')], { steps: [VIEW, CART] });
    expect(r.rows).toEqual([[0, 0, 0, 0, null, null]]);
  });
});
