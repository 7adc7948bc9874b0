/**
 * Query admission over HTTP: the heavy lane fills and overflows with 429 while small queries
 * still answer in the interactive lane; timeouts answer 504. A gated executor holds the slots
 * (the real executor's scan and cancellation are in socket.test.ts).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { gatedExecutor, ingest, metricValue, postQuery, testServer, until, type TestServer } from './helpers.js';

const T0 = Date.UTC(2026, 9, 1);
const events = (n: number) => Array.from({ length: n }, (_, i) => ({ user_id: `u${i}`, time: T0 + i * 1000 }));
let s: TestServer;

afterEach(async () => {
  await s?.close();
});

describe('query lanes', () => {
  it('queues heavy queries, refuses the overflow with 429, and keeps answering small ones', async () => {
    const gate = gatedExecutor((q) => q.table === 'big');
    s = await testServer({ executor: gate.executor, scheduler: { heavyRows: 100, heavySlots: 1, interactiveSlots: 2, maxQueued: 1 } });
    await ingest(s, 'big', events(500));
    await ingest(s, 'small', events(10));
    const first = postQuery(s, { table: 'big' });
    await until(() => gate.started() === 1, 'the first heavy query to start');
    const second = postQuery(s, { table: 'big' });
    await until(async () => metricValue((await s.app.inject({ url: '/metrics' })).body, 'shoal_queries_queued{lane="heavy"}') === 1, 'the second to queue');
    const third = await postQuery(s, { table: 'big' });
    expect(third.statusCode).toBe(429);
    expect(third.json().error.code).toBe('OVERLOADED');
    for (let i = 0; i < 5; i++) {
      const small = await postQuery(s, { table: 'small' });
      expect(small.statusCode).toBe(200);
      expect(small.json().stats.lane).toBe('interactive');
    }
    const text = (await s.app.inject({ url: '/metrics' })).body;
    expect(metricValue(text, 'shoal_queries_running{lane="heavy"}')).toBe(1);
    expect(metricValue(text, 'shoal_queries_running{lane="interactive"}')).toBe(0);
    gate.release();
    for (const res of await Promise.all([first, second])) {
      expect(res.statusCode).toBe(200);
      expect(res.json().stats.lane).toBe('heavy');
    }
    expect(gate.started()).toBe(2);
  });

  it('refuses the interactive overflow too, and serves again once slots free up', async () => {
    const gate = gatedExecutor();
    s = await testServer({ executor: gate.executor, scheduler: { interactiveSlots: 1, maxQueued: 0 } });
    await ingest(s, 'small', events(10));
    const held = postQuery(s, { table: 'small' });
    await until(() => gate.started() === 1, 'the query to start');
    const refused = await postQuery(s, { table: 'small' });
    expect(refused.statusCode).toBe(429);
    // Like RATE_LIMITED, the 429 says when to come back, so HTTP clients' retry logic waits.
    expect(refused.headers['retry-after']).toBe('1');
    gate.release();
    expect((await held).statusCode).toBe(200);
    expect((await postQuery(s, { table: 'small' })).statusCode).toBe(200);
    const text = (await s.app.inject({ url: '/metrics' })).body;
    expect(metricValue(text, 'shoal_query_duration_seconds_count{kind="aggregate",status="OVERLOADED"}')).toBe(1);
  });
});

describe('query timeout', () => {
  it('aborts a query past its timeout with 504 and counts it', async () => {
    const gate = gatedExecutor();
    s = await testServer({ executor: gate.executor, scheduler: { timeoutMs: 30 } });
    await ingest(s, 'small', events(10));
    const res = await postQuery(s, { table: 'small' });
    expect(res.statusCode).toBe(504);
    expect(res.json().error).toMatchObject({ code: 'QUERY_TIMEOUT' });
    const text = (await s.app.inject({ url: '/metrics' })).body;
    expect(metricValue(text, 'shoal_queries_cancelled_total{reason="QUERY_TIMEOUT"}')).toBe(1);
    // The slot was given back: the next query runs.
    gate.release();
    expect((await postQuery(s, { table: 'small' })).statusCode).toBe(200);
  });
});

describe('inline small queries', () => {
  it('runs queries over few rows on the main thread, not on the (busy) executor', async () => {
    const gate = gatedExecutor();
    s = await testServer({ executor: gate.executor, scheduler: { inlineRows: 100, heavyRows: 1000 } });
    await ingest(s, 'big', events(500));
    await ingest(s, 'small', events(10));
    const held = postQuery(s, { table: 'big', measures: ['count'] });
    await until(() => gate.started() === 1, 'the big query to hold the executor');
    // The small query is answered by the engine (its real count), while the executor is held.
    const small = await postQuery(s, { table: 'small', measures: ['count'] });
    expect(small.statusCode).toBe(200);
    expect(small.json().rows).toEqual([[10]]);
    expect(gate.started()).toBe(1);
    gate.release();
    expect((await held).json().rows).toEqual([[1]]);
  });
});

describe('query sizing', () => {
  it('reads from/to as the engine does: epoch ms as a digit string, ISO without an offset as UTC', async () => {
    const { estimateRows } = await import('../../server/query-scheduler.js');
    s = await testServer();
    // One event a day for 10 days: each day its own segment after a flush.
    await ingest(s, 'days', Array.from({ length: 10 }, (_, i) => ({ user_id: `u${i}`, time: T0 + i * 86_400_000 })));
    await s.store.get('days').flush();
    const snapshot = s.store.get('days').snapshot();
    const before = process.env.TZ;
    try {
      const from = T0 + 8 * 86_400_000;
      const byNumber = estimateRows(snapshot, { from });
      expect(byNumber).toBeLessThan(10);
      expect(estimateRows(snapshot, { from: String(from) })).toBe(byNumber);
      process.env.TZ = 'America/New_York';
      expect(estimateRows(snapshot, { from: new Date(from).toISOString().slice(0, 19) })).toBe(byNumber);
    } finally {
      if (before === undefined) delete process.env.TZ;
      else process.env.TZ = before;
      snapshot.release();
    }
  });
});
