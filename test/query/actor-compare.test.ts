/**
 * Ordering filters on `$actor`. Actors are strings or numbers, and 42 and "42" are one actor
 * (storage keys actors by text, so equality compares texts). An ordering comparison compares
 * numbers when both sides read as one (a number, or a string that is a number's text), else
 * texts — so `$actor >= 1000` works on actors ingested as JSON strings ("1001"), and a
 * comparison and its `not` split the actors between them, as for any never-null column.
 */
import { describe, expect, it } from 'vitest';
import { runQuery } from '../../engine/query/index.js';
import { memorySnapshot, type Event } from '../helpers/memory-snapshot.js';

const T0 = Date.parse('2024-05-01T00:00:00Z');

function table(actors: (string | number)[]): Event[] {
  return actors.map((user_id, i) => ({ user_id, time: T0 + i * 1000 }));
}

async function actorsWhere(events: Event[], where: unknown): Promise<unknown[]> {
  const r = await runQuery(memorySnapshot(events), { table: 't', where, groupBy: ['$actor'], orderBy: [['$actor', 'asc']] });
  return r.rows.map((row) => row[0]);
}

describe('ordering filters on $actor', () => {
  it('string actors holding numbers compare with a number numerically', async () => {
    const evs = table(['5', '10', '200', '1001']);
    expect(await actorsWhere(evs, ['$actor', '>=', 100])).toEqual(['1001', '200']);
    expect(await actorsWhere(evs, ['$actor', '<', 100])).toEqual(['10', '5']);
    expect(await actorsWhere(evs, ['$actor', '<=', 10])).toEqual(['10', '5']);
  });

  it('number actors compare with a numeric string numerically', async () => {
    const evs = table([5, 10, 200]);
    expect(await actorsWhere(evs, ['$actor', '>', '7'])).toEqual([10, 200]);
    expect(await actorsWhere(evs, ['$actor', '<', '7'])).toEqual([5]);
  });

  it('a comparison and its not split every actor between them', async () => {
    const evs = table(['5', 'x5', 20, 'abc', '1e3']);
    const all = await actorsWhere(evs, null);
    for (const [op, v] of [['<', 15], ['>', 15], ['<=', 'm'], ['>=', '20']] as const) {
      const yes = await actorsWhere(evs, ['$actor', op, v]);
      const no = await actorsWhere(evs, { not: ['$actor', op, v] });
      expect([...yes, ...no].map(String).sort(), `${op} ${v}`).toEqual(all.map(String).sort());
    }
  });

  it('texts compare as texts', async () => {
    const evs = table(['ann', 'bob', 'cy']);
    expect(await actorsWhere(evs, ['$actor', '>', 'b'])).toEqual(['bob', 'cy']);
    expect(await actorsWhere(evs, ['$actor', '<', 'b'])).toEqual(['ann']);
  });
});
