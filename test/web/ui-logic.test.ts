/**
 * The UI's pure logic, in Node: view state ↔ URL, time ranges and buckets, wall times in zones,
 * the JSON requests built from the state, result shaping for charts and tables, and the curl
 * command's shell quoting (checked by a real shell).
 */
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { webModule } from './web-modules.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
let state: any, time: any, build: any, series: any, behavioral: any, format: any, errorPath: any;
beforeAll(async () => {
  [state, time, build, series, behavioral, format, errorPath] = await Promise.all(
    ['state', 'time-range', 'query-build', 'series', 'behavioral', 'format', 'error-path'].map((m) => webModule(m)),
  );
});

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

describe('view state in the URL', () => {
  it('round-trips every view with its builder', () => {
    const s = state.defaultState();
    s.table = 'events';
    s.range = 'custom';
    s.from = Date.UTC(2026, 10, 1);
    s.to = Date.UTC(2026, 10, 8);
    s.tz = 'Europe/Berlin';
    s.aggregate = { measures: ['count', 'p99(latency_ms)'], where: [['country', 'in', ['US', 'DE']]], groupBy: ['os'], bucket: '1h', top: 10, chart: 1 };
    s.funnel.steps = [[['event', '=', 'search']], [['event', '=', 'purchase'], ['props.plan', '=', 'pro']]];
    s.funnel.exclude = [{ filter: [['event', '=', 'error']], after: 1, before: 2 }];
    s.sessions.maxDuration = '4h';
    s.retention.groupBy = 'country';
    for (const view of state.VIEWS) {
      const v = { ...s, view };
      const back = state.searchToState(state.stateToSearch(v));
      expect(back.view).toBe(view);
      expect(back.table).toBe('events');
      expect(back.range).toBe('custom');
      expect([back.from, back.to]).toEqual([s.from, s.to]);
      expect(back.tz).toBe('Europe/Berlin');
      expect(back[view]).toEqual(s[view]);
    }
  });

  it('falls back to defaults on malformed links', () => {
    const back = state.searchToState('?view=nope&range=custom&q=%7Bbroken&tz=');
    expect(back.view).toBe('aggregate');
    expect(back.range).toBe('7d'); // custom without from/to is not a range
    expect(back.tz).toBe('UTC');
    expect(back.aggregate).toEqual(state.defaultAggregate());
    const wrongTypes = state.searchToState(`?view=funnel&q=${encodeURIComponent(JSON.stringify({ steps: 'x', window: 7, mode: 'strict' }))}`);
    expect(wrongTypes.funnel.steps).toEqual([]);
    expect(wrongTypes.funnel.window).toBe('1d');
    expect(wrongTypes.funnel.mode).toBe('strict');
  });

  it('falls back field by field when a link\'s lists hold the wrong things (the views would throw and the page hang)', () => {
    const link = (view: string, q: unknown) => state.searchToState(`?view=${view}&q=${encodeURIComponent(JSON.stringify(q))}`)[view];
    const good = [['event', '=', 'a']];
    const funnel = link('funnel', { steps: ['x', 5], where: [5, 'a', null], exclude: [{ after: 'x' }], window: '2d' });
    expect(funnel).toEqual({ ...state.defaultFunnel(), window: '2d' });
    expect(link('funnel', { steps: [good, [['event', '=', 'b']]], exclude: [{ filter: good, after: 1, before: 2 }] }).exclude).toEqual([{ filter: good, after: 1, before: 2 }]);
    expect(link('aggregate', { measures: [5], groupBy: [null], chart: -1, top: 2.5, where: [['event']] })).toEqual(state.defaultAggregate());
    expect(link('sessions', { measures: ['count'], groupBy: ['os'] })).toMatchObject({ measures: ['count'], groupBy: ['os'] });
    expect(link('retention', { start: [[1, 2]], return: 'x', periods: 0 })).toEqual(state.defaultRetention());
    expect(link('paths', { start: [{}], depth: -3, limit: 20 })).toEqual(state.defaultPaths());
  });

  it('falls back to UTC on a time zone the browser does not know (the page would not draw)', () => {
    expect(state.searchToState('?tz=Foo%2FBar').tz).toBe('UTC');
    expect(state.searchToState('?tz=Europe%2FBerlin').tz).toBe('Europe/Berlin');
  });
});

describe('time ranges', () => {
  const now = Date.UTC(2026, 11, 1, 12);
  it('ends presets now when the table has recent events', () => {
    const r = time.resolveRange({ range: '24h', from: null, to: null }, { minTimeMs: now - 40 * DAY, maxTimeMs: now - HOUR }, now);
    expect(r).toEqual({ fromMs: now - DAY, toMs: now, notice: null });
  });
  it('anchors presets at the newest event when the table is older than the preset', () => {
    const newest = now - 90 * DAY;
    const r = time.resolveRange({ range: '7d', from: null, to: null }, { minTimeMs: newest - 30 * DAY, maxTimeMs: newest }, now);
    expect(r.toMs).toBe(newest + 1);
    expect(r.fromMs).toBe(newest + 1 - 7 * DAY);
    expect(r.notice).toBe('anchored');
  });
  it('leaves "all" open and keeps custom bounds', () => {
    expect(time.resolveRange({ range: 'all', from: null, to: null }, null, now)).toEqual({ fromMs: null, toMs: null, notice: null });
    expect(time.resolveRange({ range: 'custom', from: 5, to: 9 }, null, now)).toEqual({ fromMs: 5, toMs: 9, notice: null });
  });
  it('picks an automatic bucket that keeps charts under 150 points', () => {
    expect(time.resolveBucket('auto', 0, HOUR, null)).toBe('1m');
    expect(time.resolveBucket('auto', 0, DAY, null)).toBe('15m');
    expect(time.resolveBucket('auto', 0, 7 * DAY, null)).toBe('3h');
    expect(time.resolveBucket('auto', 0, 30 * DAY, null)).toBe('6h');
    expect(time.resolveBucket('auto', null, null, { minTimeMs: 0, maxTimeMs: 400 * DAY })).toBe('1w');
    expect(time.resolveBucket('none', 0, DAY, null)).toBeNull();
    expect(time.resolveBucket('1d', 0, DAY, null)).toBe('1d');
    expect(time.resolveBucket('auto', 0, 30 * DAY, null, 31)).toBe('1d');
  });
  it('counts retention periods by the calendar in the zone: months of 28-31 days, 23-hour days', () => {
    expect(time.periodStartMs(Date.UTC(2026, 1, 1), '1mo', 1, 'UTC')).toBe(Date.UTC(2026, 2, 1));
    expect(time.periodStartMs(Date.UTC(2026, 0, 1), '1mo', 2, 'UTC')).toBe(Date.UTC(2026, 2, 1));
    expect(time.periodStartMs(Date.UTC(2026, 10, 30), '1w', 2, 'UTC')).toBe(Date.UTC(2026, 11, 14));
    // New York springs forward on March 8, 2026: midnight two days after March 7 is 04:00Z, not 05:00Z.
    expect(time.periodStartMs(Date.UTC(2026, 2, 7, 5), '1d', 2, 'America/New_York')).toBe(Date.UTC(2026, 2, 9, 4));
  });

  it('converts wall times in a zone, across DST', () => {
    // Berlin: CET (+1) in winter, CEST (+2) from 2026-03-29 01:00 UTC; 02:00–03:00 local is skipped.
    expect(time.wallTimeToEpochMs('2026-01-15T09:30', 'Europe/Berlin')).toBe(Date.UTC(2026, 0, 15, 8, 30));
    expect(time.wallTimeToEpochMs('2026-07-01T12:00', 'Europe/Berlin')).toBe(Date.UTC(2026, 6, 1, 10, 0));
    expect(time.wallTimeToEpochMs('2026-03-29T02:30', 'Europe/Berlin')).toBe(Date.UTC(2026, 2, 29, 1, 30));
    // 2026-10-25 02:30 local happens twice (CEST then CET): the first is 00:30 UTC.
    expect(time.wallTimeToEpochMs('2026-10-25T02:30', 'Europe/Berlin')).toBe(Date.UTC(2026, 9, 25, 0, 30));
    expect(time.wallTimeToEpochMs('2026-07-01T12:00', 'UTC')).toBe(Date.UTC(2026, 6, 1, 12));
    expect(time.wallTimeToEpochMs('garbage', 'UTC')).toBeNull();
  });
  it('round-trips wall time ↔ epoch for whole minutes outside DST gaps', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.UTC(2020, 0, 1) / 60_000, max: Date.UTC(2030, 0, 1) / 60_000 }), fc.constantFrom('UTC', 'America/New_York', 'Asia/Kolkata', 'Australia/Lord_Howe'), (minute, tz) => {
          const ms = minute * 60_000;
          const wall = time.epochMsToWallTime(ms, tz);
          const back = time.wallTimeToEpochMs(wall, tz);
          // A repeated wall time maps to its first occurrence, which is never later.
          expect(back).toBeLessThanOrEqual(ms);
          expect(time.epochMsToWallTime(back, tz)).toBe(wall);
        }),
      { numRuns: 400 },
    );
  });
});

describe('requests built from the state', () => {
  const range = { fromMs: Date.UTC(2026, 10, 24), toMs: Date.UTC(2026, 11, 1) };
  it('aggregate: a bucketed chart query and a totals query with the same filter and groups', () => {
    const s = state.defaultState();
    s.table = 'events';
    s.tz = 'Asia/Tokyo';
    s.aggregate = { measures: ['count', 'uniq($actor)'], where: [['country', '=', 'US'], ['', '=', '']], groupBy: ['event'], bucket: 'auto', top: 5, chart: 0 };
    const [chart, table] = build.aggregateRequests(s, range, null);
    expect(chart.body).toEqual({
      kind: 'aggregate', table: 'events', from: '2026-11-24T00:00:00.000Z', to: '2026-12-01T00:00:00.000Z', tz: 'Asia/Tokyo',
      where: ['country', '=', 'US'], measures: ['count', 'uniq($actor)'], groupBy: ['event'], limit: 5, other: true, bucket: '3h',
    });
    const { bucket: _b, ...rest } = chart.body;
    expect(table.body).toEqual(rest);
  });
  it('funnel: needs two complete steps; ANDs conditions within a step; adds the breakdown', () => {
    const s = state.defaultState();
    s.table = 'events';
    s.funnel.steps = [[['event', '=', 'search']], [['event', '=', '']]];
    expect(build.funnelRequests(s, range, null)).toEqual([]);
    s.funnel.steps = [[['event', '=', 'search']], [['event', '=', 'purchase'], ['props.plan', 'in', ['pro', 'plus']]], [['event', 'exists']]];
    s.funnel.groupBy = 'country';
    s.funnel.bucket = 'none';
    const [f, overall, ...rest] = build.funnelRequests(s, range, null);
    expect(rest).toEqual([]);
    const { groupBy: _g, limit: _l, other: _o, ...plain } = f.body;
    expect(overall).toEqual({ label: 'overall', body: plain }); // the same funnel over everyone, for its times to convert
    expect(f.body.steps).toEqual([['event', '=', 'search'], { and: [['event', '=', 'purchase'], ['props.plan', 'in', ['pro', 'plus']]] }, ['event', 'exists']]);
    expect(f.body.groupBy).toEqual(['country']);
    expect(f.body).toMatchObject({ kind: 'funnel', window: '1d', mode: 'ordered' });
  });
  it('funnel: exclusions count steps as sent, skip incomplete ones, and are dropped in mode "any"', () => {
    const s = state.defaultState();
    s.table = 'events';
    s.funnel.bucket = 'none';
    s.funnel.steps = [[['event', '=', 'search']], [['event', '=', '']], [['event', '=', 'view_item']], [['event', '=', 'purchase']]];
    s.funnel.exclude = [
      { filter: [['event', '=', 'error']], after: 1, before: 3 }, // UI steps 1 → 3 are request steps 1 → 2
      { filter: [['event', '=', 'refund']], after: 2, before: 4 }, // starts at the incomplete step: left out
      { filter: [['event', '=', '']], after: 1, before: 4 }, // no filter yet: left out
      { filter: [['country', '=', 'US'], ['plan', '=', 'pro']], after: 3, before: 4 },
    ];
    const [f] = build.funnelRequests(s, range, null);
    expect(f.body.steps).toHaveLength(3);
    expect(f.body.exclude).toEqual([
      { filter: ['event', '=', 'error'], after: 1, before: 2 },
      { filter: { and: [['country', '=', 'US'], ['plan', '=', 'pro']] }, after: 2, before: 3 },
    ]);
    s.funnel.mode = 'any';
    expect(build.funnelRequests(s, range, null)[0].body.exclude).toBeUndefined();
  });
  it('funnel: conversion over time is at least daily over ranges of 3 days or more', () => {
    expect(build.funnelBucket('auto', range, null)).toBe('1d');
    expect(build.funnelBucket('auto', { fromMs: 0, toMs: DAY }, null)).toBe('1h');
    expect(build.funnelBucket('auto', { fromMs: 0, toMs: 90 * DAY }, null)).toBe('1w');
    expect(build.funnelBucket('6h', range, null)).toBe('6h');
    expect(build.funnelBucket('none', range, null)).toBeNull();
  });
  it('sessions: maxDuration only when chosen; retention: a breakdown with a group limit', () => {
    const s = state.defaultState();
    s.table = 'events';
    s.sessions.bucket = 'none';
    expect(build.sessionsRequests(s, range, null)[0].body.maxDuration).toBeUndefined();
    s.sessions.maxDuration = '2h';
    expect(build.sessionsRequests(s, range, null)[0].body).toMatchObject({ kind: 'sessions', gap: '30m', maxDuration: '2h' });
    expect(build.retentionRequests(s, range)[0].body.groupBy).toBeUndefined();
    s.retention.groupBy = 'country';
    expect(build.retentionRequests(s, range)[0].body).toMatchObject({ groupBy: ['country'], limit: build.RETENTION_TOP_GROUPS });
  });
  it('retention without a chosen event starts cohorts at any event', () => {
    const s = state.defaultState();
    s.table = 'events';
    const [r] = build.retentionRequests(s, range);
    expect(r.body.start).toEqual({ and: [] });
    expect(r.body.return).toBeUndefined();
  });
  it('prints query JSON compactly and exactly: it parses back to the same value', () => {
    const body = { kind: 'funnel', steps: [['event', '=', 'a,1'], { and: [['x', 'in', [1, 2]], ['s', '=', 'q","r']] }], window: '1d' };
    expect(build.prettyJson(body)).toContain('["event", "=", "a,1"]');
    fc.assert(fc.property(fc.jsonValue(), fc.integer({ min: 0, max: 100 }), (v, width) => {
      expect(JSON.parse(build.prettyJson(v, width))).toEqual(JSON.parse(JSON.stringify(v)));
    }), { verbose: true });
    expect(JSON.parse(build.prettyJson(body, 20))).toEqual(body);
  });
  it('parses filter values by column type', () => {
    expect(build.parseFilterValue(' 404 ', '=', 'number')).toBe(404);
    expect(build.parseFilterValue('200, 304,', 'in', 'number')).toEqual([200, 304]);
    expect(build.parseFilterValue('true', '=', 'boolean')).toBe(true);
    expect(build.parseFilterValue('404', '=', 'string')).toBe('404');
    expect(build.parseFilterValue('abc', '=', 'number')).toBe('abc'); // the server names the mismatch
  });
  it('quotes the curl body so a shell passes it through unchanged', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer(), fc.boolean())), (extra) => {
        const body = { table: 'events', where: ["it's", '=', "'; echo pwned '"], ...extra };
        const cmd = build.curlCommand('http://127.0.0.1:8080', body).replace(/^curl /, 'printf "%s\\n" ');
        const out = execFileSync('sh', ['-c', cmd], { encoding: 'utf8' }).split('\n');
        expect(out[out.indexOf('-d') + 1]).toBe(JSON.stringify(body));
      }),
      { numRuns: 60 },
    );
  });
});

describe('result shaping', () => {
  const result = {
    columns: [{ name: '$bucket', type: 'time' }, { name: 'country', type: 'string' }, { name: 'count', type: 'number' }],
    rows: [
      [1000, 'US', 5], [1000, '$other', 50], [1000, 'IN', 9],
      [2000, 'IN', 1], [2000, '$other', 40], [2000, null, 3],
    ],
  };
  it('makes one series per group, biggest first, Other last, gaps as null', () => {
    const { xs, series: s } = series.toTimeSeries(result, 'count');
    expect(xs).toEqual([1000, 2000]);
    expect(s.map((x: any) => x.label)).toEqual(['IN', 'US', '(none)', 'Other']);
    expect(s.map((x: any) => x.values)).toEqual([[9, 1], [5, null], [null, 3], [50, 40]]);
  });
  it('orders series by another measure when asked, so groups keep their colours', () => {
    const two = {
      columns: [{ name: '$bucket', type: 'time' }, { name: 'os', type: 'string' }, { name: 'count', type: 'number' }, { name: 'p99(latency_ms)', type: 'number' }],
      rows: [[1000, 'iOS', 100, 5], [1000, 'Android', 10, 900]],
    };
    expect(series.toTimeSeries(two, 'p99(latency_ms)').series.map((x: any) => x.label)).toEqual(['Android', 'iOS']);
    const ranked = series.toTimeSeries(two, 'p99(latency_ms)', 'count').series;
    expect(ranked.map((x: any) => [x.label, x.values])).toEqual([['iOS', [5]], ['Android', [900]]]);
  });
  it('sorts rows numerically or by text, nulls last either way', () => {
    const rows = [['b', 2], ['a', null], ['c', 10]];
    expect(series.sortRows(rows, 1, true).map((r: any) => r[0])).toEqual(['c', 'b', 'a']);
    expect(series.sortRows(rows, 1, false).map((r: any) => r[0])).toEqual(['b', 'c', 'a']);
    expect(series.sortRows(rows, 0, false).map((r: any) => r[0])).toEqual(['a', 'b', 'c']);
  });
  it('reads funnel rows with group columns and per-step conversion and times', () => {
    const f = behavioral.parseFunnel({
      columns: ['country', 'step1', 'step1_conversion', 'step2', 'step2_conversion', 'step2_median_ms', 'step2_p90_ms'].map((name) => ({ name })),
      rows: [['US', 10, 1, 4, 0.4, 1500, 9000]],
    });
    expect(f.groupColumns).toEqual(['country']);
    expect(f.stepCount).toBe(2);
    expect(f.rows[0]).toEqual({ group: ['US'], bucket: null, steps: [
      { actors: 10, conversion: 1, medianMs: null, p90Ms: null },
      { actors: 4, conversion: 0.4, medianMs: 1500, p90Ms: 9000 },
    ] });
  });
  it('reads retention cohorts and paths in the engine\'s result layout', () => {
    const r = behavioral.parseRetention({
      columns: ['$cohort', 'country', 'cohort_size', 'period0', 'period1'].map((name) => ({ name })),
      rows: [[DAY, 'US', 4, 4, 1], [2 * DAY, 'US', 0, 0, 0]],
    });
    expect(r).toEqual({ periods: 2, groupColumns: ['country'], rows: [
      { group: ['US'], cohortMs: DAY, size: 4, counts: [4, 1] },
      { group: ['US'], cohortMs: 2 * DAY, size: 0, counts: [0, 0] },
    ] });
    const p = behavioral.parsePaths({
      columns: ['node0', 'node1', 'node2', 'sessions'].map((name) => ({ name })),
      rows: [['search', 'view_item', null, 7], ['search', null, null, 2]],
      edges: [[1, 'search', 'view_item', 7]],
    });
    expect(p.paths).toEqual([{ nodes: ['search', 'view_item'], sessions: 7 }, { nodes: ['search'], sessions: 2 }]);
    expect(p.edges).toEqual([{ depth: 1, from: 'search', to: 'view_item', sessions: 7 }]);
  });
  it('averages retention over the cohorts that finished each period, as PostHog and Amplitude do', () => {
    const rows = [
      { cohortMs: 0, size: 10, counts: [10, 5, 2] },
      { cohortMs: DAY, size: 30, counts: [30, 6, 0] },
    ];
    const curve = behavioral.retentionCurve(rows, (c: number, n: number) => c + n * DAY, 2 * DAY);
    // The second cohort's period 1 (day 2 to 3) is still in progress at the newest event (day 2):
    // left out, else its returns still to come would drag the average down (11/40). Period 2 has
    // been finished by no cohort: the first cohort's running share, marked partial.
    expect(curve).toEqual({ values: [1, 5 / 10, 2 / 10], partialFrom: 2 });
    expect(behavioral.retentionAverage(rows, (c: number, n: number) => c + n * DAY, 2 * DAY)).toEqual([
      { kept: 40, base: 40, partial: false }, { kept: 5, base: 10, partial: false }, { kept: 2, base: 10, partial: true },
    ]);
    // Before any cohort has begun a period: no point at all.
    expect(behavioral.retentionCurve(rows, (c: number, n: number) => c + n * DAY, DAY - 1)).toEqual({ values: [10 / 10, null, null], partialFrom: 0 });
  });
  it('says an error\'s query path in the builder\'s words, counting only the rows that were sent', () => {
    const s = state.defaultState();
    s.view = 'funnel';
    s.funnel.steps = [[['event', '=', 'a']], [['event', '=', '']], [['event', '=', 'b'], ['status', '=', 'x']]];
    // Step 2 is incomplete, so the request's steps[1] is the third step on the page.
    expect(errorPath.pathInWords('steps[1].and[1][2]', s)).toBe('step 3, condition 2 (its value)');
    expect(errorPath.pathInWords('steps[0][0]', s)).toBe('step 1, condition 1 (its column)');
    s.view = 'aggregate';
    s.aggregate.where = [['', '=', ''], ['country', '=', 'US'], ['status', '>', 'x']];
    expect(errorPath.pathInWords('where.and[1][2]', s)).toBe('“Where”, condition 3 (its value)');
    expect(errorPath.pathInWords('measures[1]', s)).toBe('measure 2');
    expect(errorPath.pathInWords('limit', s)).toBe('');
    // A column the table lacks (a view kept across tables): the picker that names it.
    expect(errorPath.pathInWords('groupBy[1]', s)).toBe('“Group by”, column 2');
    expect(errorPath.pathInWords('groupBy[0]', { ...s, view: 'sessions' })).toBe('“Group sessions by”, column 1');
    expect(errorPath.pathInWords('groupBy[0]', { ...s, view: 'funnel' })).toBe('“Break down by”');
    expect(errorPath.pathInWords('groupBy[0]', { ...s, view: 'retention' })).toBe('“Break down by”');
    expect(errorPath.pathInWords('node', { ...s, view: 'paths' })).toBe('“Steps are values of”');
    expect(errorPath.pathInWords(undefined, s)).toBe('');
  });

  it('names steps for people', () => {
    expect(behavioral.stepName([['event', '=', 'purchase']], 0)).toBe('purchase');
    expect(behavioral.stepName([['country', 'in', ['US', 'DE']], ['status', 'exists']], 1)).toBe('country is one of US, DE and status is set');
    expect(behavioral.stepName([], 2)).toBe('Step 3');
    expect(behavioral.stepName([['event', '=', '']], 1)).toBe('Step 2'); // a value still being typed
  });
  it('formats units: durations, percentages, counts', () => {
    expect(format.formatDuration(850)).toBe('850 ms');
    expect(format.formatDuration(1250)).toBe('1.25 s');
    expect(format.formatDuration(90_000)).toBe('1.5 min');
    expect(format.formatPercent(0.4251)).toBe('42.5%');
    expect(format.formatNumber(1234567)).toBe('1,234,567');
    expect(format.unitOf('p99(latency_ms)')).toBe('ms');
    expect(format.unitOf('median(duration)')).toBe('ms');
    expect(format.unitOf('uniq($actor)')).toBe('count');
    expect(format.unitOf('step2_conversion')).toBe('fraction');
    expect(format.unitOf('avg(props.price)')).toBe('number');
    // Measures read the same in titles, axes and table headers, p99.9 as p99.
    expect(format.measureLabel('p99(latency_ms)')).toBe('p99 of latency_ms');
    expect(format.measureLabel('p99.9(latency_ms)')).toBe('p99.9 of latency_ms');
    const now = Date.UTC(2026, 11, 1, 12);
    expect(format.formatSpan(Date.UTC(2026, 10, 24, 21, 53, 7), Date.UTC(2026, 11, 1, 21, 53, 7), 'UTC', now)).toBe('Nov 24, 21:53 – Dec 1, 21:53');
    expect(format.formatSpan(Date.UTC(2025, 11, 30), Date.UTC(2026, 0, 2), 'Asia/Tokyo', now)).toBe('Dec 30, 2025, 09:00 – Jan 2, 2026, 09:00');
    expect(format.bucketWords('1d')).toBe('day');
    expect(format.bucketWords('3h')).toBe('3 hours');
    expect(format.bucketWords('1mo')).toBe('month');
    expect(format.axisLabel('Conversion', 'fraction')).toBe('Conversion (%)');
    expect(format.axisLabel('Events', 'count')).toBe('Events');
  });
  it('marks end buckets the range covers only in part', () => {
    const xs = [0, 1, 2, 3].map((d) => d * DAY);
    expect(series.partialBuckets(xs, { fromMs: 0, toMs: 4 * DAY })).toEqual({ first: false, last: false });
    expect(series.partialBuckets(xs, { fromMs: HOUR, toMs: 3 * DAY + HOUR })).toEqual({ first: true, last: true });
    expect(series.partialBuckets(xs.slice(0, 2), { fromMs: HOUR, toMs: HOUR })).toEqual({ first: false, last: false });
  });
});
