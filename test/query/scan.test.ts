/**
 * Scan internals that results alone do not show: selection vectors pass all-rows through,
 * string predicates run once per dictionary entry, zone maps skip row groups without reading.
 */
import { describe, expect, it } from 'vitest';
import { FilterEvaluator } from '../../engine/query/filter-eval.js';
import { runQuery, validateQuery } from '../../engine/query/index.js';
import { RowGroupReader, Scratch } from '../../engine/query/row-group.js';
import type { RowGroupInfo, ScanSource, TableSnapshot } from '../../engine/query/source.js';
import type { ColumnType, ColumnVector, ZoneMap } from '../../engine/types.js';
import { memorySnapshot } from '../helpers/memory-snapshot.js';

/** One shard, one source: `groups` row groups of `rows` rows; column s cycles through `dict`. */
function countingSnapshot(dict: readonly string[], groups: number, rows: number): { snap: TableSnapshot; dictReads: () => number; columnReads: () => number } {
  let dictReads = 0;
  let columnReads = 0;
  const counted = new Proxy(dict as string[], {
    get(target, prop, receiver) {
      if (typeof prop === 'string' && /^\d+$/.test(prop)) dictReads++;
      return Reflect.get(target, prop, receiver);
    },
  });
  const rowGroups: RowGroupInfo[] = Array.from({ length: groups }, (_, g) => ({
    rowStart: g * rows,
    rowCount: rows,
    zones: new Map<string, ZoneMap>([
      ['$time', { min: g * 1000, max: g * 1000 + rows - 1, nullCount: 0 }],
      ['s', { min: [...dict].sort()[0], max: [...dict].sort()[dict.length - 1], nullCount: 0 }],
      ['n', { min: g * 10, max: g * 10 + 9, nullCount: 0 }],
    ]),
  }));
  const source: ScanSource = {
    id: 'seg', rowCount: groups * rows, minTimeMs: 0, maxTimeMs: groups * 1000, rowGroups,
    columns: new Map<string, ColumnType>([['s', 'string'], ['n', 'number']]),
    readColumn(column: string, g: number): ColumnVector | null {
      columnReads++;
      if (column === '$time') return { type: 'time', values: Float64Array.from({ length: rows }, (_, i) => g * 1000 + i), validity: null };
      if (column === 'n') return { type: 'number', values: Float64Array.from({ length: rows }, (_, i) => g * 10 + (i % 10)), validity: null };
      return { type: 'string', codes: Uint32Array.from({ length: rows }, (_, i) => i % dict.length), dict: counted, validity: null };
    },
    readActorIds: () => new Uint32Array(rows),
  };
  const snap: TableSnapshot = {
    table: 't', actorColumn: 'user_id', timeColumn: 'time', schema: source.columns,
    shards: [{ shard: 0, actorCount: 1, actorValue: () => 'a', sources: [source] }], release: () => {},
  };
  return { snap, dictReads: () => dictReads, columnReads: () => columnReads };
}

describe('scan', () => {
  it('evaluates a string predicate once per dictionary entry, not per row', async () => {
    const { snap, dictReads } = countingSnapshot(['alpha', 'beta', 'gamma'], 20, 1000);
    const r = await runQuery(snap, { table: 't', where: ['s', 'contains', 'a'] });
    expect(r.rows).toEqual([[20 * 1000]]);
    const r2 = await runQuery(snap, { table: 't', where: ['s', 'startsWith', 'b'] });
    expect(r2.rows).toEqual([[333 * 20]]); // rows i with i % 3 === 1
    expect(dictReads()).toBeLessThanOrEqual(2 * 3 + 8); // a handful of zone/setup reads at most, never per row
  });

  it('skips row groups by zone maps without reading them', async () => {
    const { snap, columnReads } = countingSnapshot(['x', 'y'], 10, 100);
    const r = await runQuery(snap, { table: 't', where: ['n', '>=', 90] });
    expect(r.rows).toEqual([[100]]);
    expect(r.stats.rowsScanned).toBe(100);
    expect(columnReads()).toBe(0); // the one group left passes entirely by its zone map
  });

  it('passes every row through untouched when all rows match (selection vector null)', () => {
    const snap = memorySnapshot([{ user_id: 'a', time: 1, n: 1 }, { user_id: 'a', time: 2, n: 2 }], { shards: 1, maxSources: 1 });
    const q = validateQuery({ table: 't', where: { or: [['n', '>', 0], ['n', '<', 0]] } }, snap);
    const scratch = new Scratch();
    const reader = new RowGroupReader(snap.shards[0]);
    const filter = new FilterEvaluator(q.where, scratch);
    const src = snap.shards[0].sources[0];
    let total = 0;
    for (let g = 0; g < src.rowGroups.length; g++) {
      reader.reset(src, g);
      scratch.ensure(reader.rowCount);
      const { n, sel } = filter.select(reader);
      expect(sel).toBeNull();
      total += n;
    }
    expect(total).toBe(2);
  });
});
