/**
 * Workload isolation on the main thread: an ingest's slices (split, WAL encoding, tail appends)
 * take their turns through QueryScheduler.backgroundTurn, which holds them back while
 * interactive queries execute, up to `backgroundMaxDeferMs`, and never for heavy-lane queries.
 * A gated executor keeps a query "executing" for as long as a test needs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { gatedExecutor, ingest, metricValue, postQuery, testServer, until, type TestServer } from './helpers.js';

const T0 = Date.UTC(2026, 9, 1);
const events = (n: number, tag = 'e') => Array.from({ length: n }, (_, i) => ({ user_id: `${tag}${i}`, time: T0 + i * 1000 }));
/** Long enough that a test ends (and releases the gate) long before a deferral could run out. */
const NEVER_MS = 600_000;
let s: TestServer;

afterEach(async () => {
  await s?.close();
});

/** Lets the event loop run `turns` macrotask turns (I/O, timers, immediates). */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Tracks whether a promise has settled yet. */
function tracked<T>(p: Promise<T>): { settled: () => boolean; promise: Promise<T> } {
  let settled = false;
  const promise = p.finally(() => (settled = true));
  return { settled: () => settled, promise };
}

describe('backgroundTurn', () => {
  it('resolves after an event-loop turn when no query runs', async () => {
    s = await testServer({ scheduler: { backgroundMaxDeferMs: NEVER_MS } });
    await s.scheduler.backgroundTurn();
    expect(s.scheduler.backgroundDeferredSeconds).toBe(0);
  });

  it('waits while an interactive query executes and resumes as soon as it finishes', async () => {
    const gate = gatedExecutor();
    s = await testServer({ executor: gate.executor, scheduler: { backgroundMaxDeferMs: NEVER_MS } });
    await ingest(s, 'small', events(10));
    const query = postQuery(s, { table: 'small' });
    await until(() => gate.started() === 1, 'the query to start');
    const turn = tracked(s.scheduler.backgroundTurn());
    await turns(20);
    expect(turn.settled()).toBe(false);
    gate.release();
    expect((await query).statusCode).toBe(200);
    await turn.promise;
    expect(s.scheduler.backgroundDeferredSeconds).toBeGreaterThan(0);
  });

  it('never waits longer than backgroundMaxDeferMs, so a stream of queries cannot stall an ingest', async () => {
    const gate = gatedExecutor();
    s = await testServer({ executor: gate.executor, scheduler: { backgroundMaxDeferMs: 1 } });
    await ingest(s, 'small', events(10));
    const query = postQuery(s, { table: 'small' });
    await until(() => gate.started() === 1, 'the query to start');
    // The query is still executing: the turn comes anyway, once the deferral runs out, and
    // leaves nothing behind (turns that time out must not pile up while queries overlap).
    for (let i = 0; i < 5; i++) await s.scheduler.backgroundTurn();
    expect(s.scheduler.backgroundWaiting).toBe(0);
    expect(gate.started()).toBe(1);
    gate.release();
    expect((await query).statusCode).toBe(200);
  });

  it('does not wait for heavy-lane queries', async () => {
    const gate = gatedExecutor();
    s = await testServer({ executor: gate.executor, scheduler: { heavyRows: 100, backgroundMaxDeferMs: NEVER_MS } });
    await ingest(s, 'big', events(500));
    const query = postQuery(s, { table: 'big' });
    await until(() => gate.started() === 1, 'the heavy query to start');
    await s.scheduler.backgroundTurn();
    gate.release();
    const res = await query;
    expect(res.json().stats.lane).toBe('heavy');
    expect(s.scheduler.backgroundDeferredSeconds).toBe(0);
  });
});

describe('ingest under interactive queries', () => {
  it('holds an ingest request between slices while a small query executes, then commits it whole', async () => {
    const gate = gatedExecutor((q) => q.table === 'small');
    s = await testServer({ executor: gate.executor, scheduler: { backgroundMaxDeferMs: NEVER_MS } });
    await ingest(s, 'small', events(10));
    const query = postQuery(s, { table: 'small' });
    await until(() => gate.started() === 1, 'the query to start');
    const request = tracked(ingest(s, 'bulk', events(300, 'b')));
    const parsed = async (): Promise<number> => metricValue((await s.app.inject({ url: '/metrics' })).body, 'shoal_ingest_phase_seconds_count{phase="parse"}');
    // Parsed (on the parse pool, which may take a while to start), then held at its first slice.
    await until(async () => (await parsed()) === 2, 'the request to be parsed');
    await turns(50);
    expect(request.settled()).toBe(false);
    // Held in its split, before anything reached the tails.
    expect(s.store.get('bulk').tailRows()).toBe(0);
    gate.release();
    expect((await query).statusCode).toBe(200);
    const res = await request.promise;
    expect(res.statusCode).toBe(200);
    expect(res.json().accepted).toBe(300);
    const text = (await s.app.inject({ url: '/metrics' })).body;
    expect(metricValue(text, 'shoal_ingest_deferred_seconds_total')).toBeGreaterThan(0);
    expect(metricValue(text, 'shoal_ingest_phase_seconds_count{phase="parse"}')).toBe(2);
    expect(metricValue(text, 'shoal_ingest_phase_seconds_count{phase="commit"}')).toBe(2);
  });
});
