/**
 * The comparison suites' SQL is right: on a small generated dataset DuckDB and chDB — two
 * independent formulations of every question (ASOF joins vs `windowFunnel`, window functions vs
 * arrays, `bool_or` vs `retention`) — give the same answers, and a few answers equal a plain
 * count over the generator's events. Also the answer comparison itself, on literal rows.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateEvents, writeNdjson, type GenerateOptions } from '../../bench/generator.js';
import { differences } from '../../bench/peers/agree.js';
import { BEHAVIORAL_SUITE } from '../../bench/peers/behavioral-suite.js';
import { ChdbPeer } from '../../bench/peers/chdb.js';
import { DuckDbPeer } from '../../bench/peers/duckdb.js';
import { QUERY_SUITE } from '../../bench/peers/query-suite.js';
import { sqlRow, type Row, type SuiteQuery } from '../../bench/peers/suite.js';

const work = mkdtempSync(join(tmpdir(), 'shoal-suites-'));
const opts: GenerateOptions = { events: 30_000, seed: 7 };
const file = join(work, 'events.ndjson');
const answers: Record<'duckdb' | 'chdb', Map<string, Row[]>> = { duckdb: new Map(), chdb: new Map() };
const SUITE = [...QUERY_SUITE, ...BEHAVIORAL_SUITE];

/** The query without its percentile columns: the peers' approximations differ on small groups. */
function exactPart(q: SuiteQuery, rows: Row[]): [SuiteQuery, Row[]] {
  const keep = q.values.map((v, i) => (v.tol === 'quantile' ? -1 : i)).filter((i) => i >= 0);
  const exact = { ...q, values: keep.map((i) => q.values[i]) };
  return [exact, rows.map((r) => [...r.slice(0, q.keys), ...keep.map((i) => r[q.keys + i])])];
}

beforeAll(async () => {
  await writeNdjson(file, { ...opts, shuffle: true });
  const duck = await DuckDbPeer.open(join(work, 'duck.db'));
  try {
    await duck.loadNdjson(file);
    await duck.sortTable('user_id, time');
    for (const q of SUITE) answers.duckdb.set(q.id, (await duck.query(q.duckdb)).rows.map((r) => sqlRow(q, r)));
  } finally {
    duck.close();
  }
  const ch = ChdbPeer.open(join(work, 'chdb'));
  try {
    await ch.loadNdjson(file);
    for (const q of SUITE) answers.chdb.set(q.id, (await ch.query(q.chdb)).rows.map((r) => sqlRow(q, r)));
  } finally {
    await ch.close();
  }
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('DuckDB and chDB agree on every suite query', () => {
  for (const q of SUITE) {
    it(q.id, () => {
      const [duck, ch] = [answers.duckdb.get(q.id)!, answers.chdb.get(q.id)!];
      expect(duck.length).toBeGreaterThan(0);
      const [exact, d] = exactPart(q, duck);
      expect(differences(exact, d, exactPart(q, ch)[1], 10)).toEqual([]);
    });
  }
});

describe('suite answers equal plain counts over the generated events', () => {
  it('count by event and the filtered count', () => {
    const byEvent = new Map<string, number>();
    for (const e of generateEvents(opts)) byEvent.set(e.event, (byEvent.get(e.event) ?? 0) + 1);
    const rows = answers.duckdb.get('count_by_event')!;
    expect(new Map(rows.map((r) => [r[0], r[1]]))).toEqual(byEvent);
    expect(answers.chdb.get('count_where_event')).toEqual([[byEvent.get('search')]]);
  });

  it('the 3-step funnel: actors with a page_view, then a search, then a view_item within a day', () => {
    const perUser = new Map<string, { t: number; e: string }[]>();
    for (const e of generateEvents(opts)) {
      const list = perUser.get(e.user_id) ?? [];
      list.push({ t: Date.parse(e.time as string), e: e.event });
      perUser.set(e.user_id, list);
    }
    const steps = ['page_view', 'search', 'view_item'];
    const reached = [0, 0, 0];
    for (const events of perUser.values()) {
      let best = 0;
      for (let i = 0; i < events.length; i++) {
        if (events[i].e !== steps[0]) continue;
        let level = 1;
        for (let j = i + 1; j < events.length && level < steps.length && events[j].t - events[i].t <= 86_400_000; j++) {
          if (events[j].e === steps[level]) level++;
        }
        best = Math.max(best, level);
      }
      for (let k = 0; k < best; k++) reached[k]++;
    }
    expect(answers.chdb.get('funnel_3')).toEqual([reached]);
  });
});

describe('answer comparison', () => {
  const q: SuiteQuery = {
    id: 't',
    title: 't',
    keys: 1,
    values: [
      { name: 'count', tol: 'exact' },
      { name: 'p99', tol: 'quantile' },
    ],
    compare: 'keyed',
    shoal: {},
    duckdb: '',
    chdb: '',
  };

  it('accepts equal counts and percentiles within 5%, and zero-filled rows missing elsewhere', () => {
    expect(differences(q, [['a', 3, 100], ['b', 0, null]], [['a', 3, 104]])).toEqual([]);
  });

  it('reports a different count, a percentile off by more than 5%, and a missing group', () => {
    expect(differences(q, [['a', 3, 100], ['b', 2, 1]], [['a', 4, 110]])).toEqual(['a count: 3 vs 4', 'a p99: 100 vs 110', 'b: only in the first']);
  });

  it('compares a top-k by its sorted values only', () => {
    const top: SuiteQuery = { ...q, compare: 'topValues' };
    expect(differences(top, [['x', 5, 1], ['y', 4, 1]], [['z', 4, 9], ['w', 5, 9]])).toEqual([]);
    expect(differences(top, [['x', 5, 1]], [['x', 6, 1]])).toEqual(['#1 count: 5 vs 6']);
  });
});
