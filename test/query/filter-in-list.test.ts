/**
 * `in` / `!in` lists (up to 100,000 values) are read once per query, not once per dictionary
 * entry, actor or row group: a 10,000-value list over 100,000 distinct strings took 113 s (and
 * 28 s over as many actors), inside one row group, where no timeout or cancellation reaches.
 * The work is counted as reads of the list's elements (a Proxy), never timed.
 */
import { describe, expect, it } from 'vitest';
import type { Scalar } from '../../engine/types.js';
import { FilterEvaluator } from '../../engine/query/filter-eval.js';
import { matchActor, matchValue, zoneVerdict, NONE, SOME } from '../../engine/query/filter-zone.js';
import type { FilterNode, LeafOp } from '../../engine/query/query-types.js';
import { RowGroupReader, Scratch } from '../../engine/query/row-group.js';
import { memorySnapshot } from '../helpers/memory-snapshot.js';

/** The values as an array that counts how many of its elements are read. */
function counted(values: Scalar[]): { list: Scalar[]; reads: () => number } {
  let reads = 0;
  const list = new Proxy(values, {
    get(target, key, receiver) {
      if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
      return Reflect.get(target, key, receiver);
    },
  });
  return { list, reads: () => reads };
}

const N = 1000;
const strings = Array.from({ length: N }, (_, i) => `v${i}`);

describe('in lists', () => {
  it('matchValue reads a list once however many values it is asked about', () => {
    for (const op of ['in', '!in'] as LeafOp[]) {
      const { list, reads } = counted(strings);
      let hits = 0;
      for (let i = 0; i < 2000; i++) hits += +matchValue(op, list, `v${i}`);
      expect(hits).toBe(op === 'in' ? N : 1000);
      expect(reads()).toBeLessThanOrEqual(2 * N);
    }
  });

  it('matchActor compares by text and reads a list once', () => {
    const { list, reads } = counted([...strings, 42]);
    let hits = 0;
    for (let i = 0; i < 2000; i++) hits += +matchActor('in', list, `v${i}`);
    expect(hits).toBe(N);
    expect(matchActor('in', list, '42')).toBe(true);
    expect(matchActor('!in', list, 43)).toBe(true);
    expect(reads()).toBeLessThanOrEqual(2 * (N + 1));
  });

  it('zone maps and the number kernel read a list once over many row groups', () => {
    const numbers = Array.from({ length: N }, (_, i) => i * 10);
    const { list, reads } = counted(numbers);
    const leaf: FilterNode = { kind: 'leaf', id: 0, column: { kind: 'column', name: 'n', type: 'number' }, op: 'in', value: list };
    const snap = memorySnapshot(Array.from({ length: 3000 }, (_, i) => ({ user_id: 'a', time: 1.7e12 + i, n: i })), { shards: 1, maxSources: 1, maxRowGroup: 10 });
    const shard = snap.shards[0];
    const reader = new RowGroupReader(shard);
    const scratch = new Scratch();
    const filter = new FilterEvaluator(leaf, scratch);
    let selected = 0;
    let groups = 0;
    for (const source of shard.sources) {
      for (let g = 0; g < source.rowGroups.length; g++, groups++) {
        reader.reset(source, g);
        scratch.ensure(reader.rowCount);
        if (filter.verdict(reader) !== NONE) selected += filter.select(reader).n;
      }
    }
    expect(groups).toBeGreaterThan(100);
    expect(selected).toBe(300); // 0, 10, … 2990
    // a row group holding only 20 … 25 has no listed value; one holding 5 … 15 may
    const zone = (min: number, max: number): Map<string, { min: number; max: number; nullCount: number }> => new Map([['n', { min, max, nullCount: 0 }]]);
    const columns = new Map([['n', 'number' as const]]);
    expect(zoneVerdict(leaf, zone(21, 29), 5, columns)).toBe(NONE);
    expect(zoneVerdict(leaf, zone(5, 15), 5, columns)).toBe(SOME);
    expect(reads()).toBeLessThanOrEqual(4 * N);
  });
});
