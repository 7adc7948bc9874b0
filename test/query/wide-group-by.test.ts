/**
 * Grouping by many columns (up to 100). The group index packs the columns' value ids into one
 * integer only while that fits in 22 bits; it used to start packed whatever the width, one bit
 * a column, so 31 columns asked for a table of 2^31 slots (a RangeError), 23–30 columns for up
 * to 4 GiB (QUERY_MEMORY_EXCEEDED for two groups), and 32 or more two-valued columns shifted
 * their keys past 32 bits, merging groups that differ in the first columns.
 */
import { describe, expect, it } from 'vitest';
import { runQuery } from '../../engine/query/index.js';
import { memorySnapshot, type Event } from '../helpers/memory-snapshot.js';

const T0 = Date.parse('2024-05-01T00:00:00Z');

/** 30 events; c0 and c1 take two values each (4 tuples), c2 … c39 one value. */
const events: Event[] = Array.from({ length: 30 }, (_, i) => {
  const e: Event = { user_id: `u${i % 5}`, time: T0 + i * 1000 };
  for (let c = 0; c < 40; c++) e[`c${c}`] = c === 0 ? ['a', 'b'][Math.floor(i / 2) % 2] : c === 1 ? (i % 2 ? 'x' : 'y') : 'k';
  return e;
});

function expected(): unknown[][] {
  const counts = new Map<string, number>();
  for (const e of events) counts.set(`${e.c0}${e.c1}`, (counts.get(`${e.c0}${e.c1}`) ?? 0) + 1);
  return [...counts].sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, n]) => [k[0], k[1], n]);
}

describe('group by many columns', () => {
  it('gives every width the counts of grouping by the two columns that vary', async () => {
    for (const width of [2, 22, 23, 28, 30, 31, 32, 33, 40]) {
      for (const seed of [1, 2]) {
        const r = await runQuery(memorySnapshot(events, { seed }), {
          table: 't', groupBy: Array.from({ length: width }, (_, c) => `c${c}`), orderBy: [['c0', 'asc'], ['c1', 'asc']],
        });
        expect([width, r.rows.map((row) => [row[0], row[1], row[row.length - 1]])]).toEqual([width, expected()]);
      }
    }
  });
});
