/** Builds a server over a temporary store for route tests, plus small request helpers. */
import type { LightMyRequestResponse } from 'fastify';
import { Store, type StoreOptions } from '../../engine/index.js';
import { buildApp, type AppOptions, type ShoalApp } from '../../server/app.js';
import type { Executor } from '../../server/query-scheduler.js';
import { tempDir } from '../storage/helpers.js';

export interface TestServer extends ShoalApp {
  store: Store;
  dir: string;
  close(): Promise<void>;
}

export async function testServer(opts: Partial<AppOptions> = {}, storeOptions: StoreOptions = {}): Promise<TestServer> {
  const { dir, cleanup } = tempDir('shoal-server-');
  const store = await Store.open(dir, { log: () => {}, ...storeOptions });
  // A test that supplies an executor means every query to run on it, small ones included.
  const scheduler = opts.executor !== undefined ? { inlineRows: 0, ...opts.scheduler } : opts.scheduler;
  const shoal = await buildApp({ store, ...opts, scheduler });
  let closed = false;
  return {
    ...shoal,
    store,
    dir,
    async close() {
      if (closed) return;
      closed = true;
      await shoal.shutdown();
      await store.close(false);
      cleanup();
    },
  };
}

export function ndjson(events: object[]): string {
  return events.map((e) => JSON.stringify(e)).join('\n') + '\n';
}

/** POSTs NDJSON events to a table and expects them accepted. */
export async function ingest(s: ShoalApp, table: string, events: object[], headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return s.app.inject({ method: 'POST', url: `/v1/tables/${table}/events`, headers: { 'content-type': 'application/x-ndjson', ...headers }, payload: ndjson(events) });
}

export function postQuery(s: ShoalApp, body: unknown, headers: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  return s.app.inject({ method: 'POST', url: '/v1/query', headers, payload: body as object });
}

/**
 * An executor whose queries (those `gate` selects; all by default) wait until `release()` or
 * until aborted, rejecting then with the signal's reason as the real executor does; the others
 * answer at once. It holds scheduler slots for admission tests.
 */
export function gatedExecutor(gate: (query: { table?: string }) => boolean = () => true): { executor: Executor; started: () => number; release: () => void } {
  let started = 0;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  const answer = { columns: [{ name: 'count', type: 'number' }], rows: [[1]], stats: {} };
  const executor: Executor = (_snapshot, query, signal) =>
    new Promise((resolve, reject) => {
      if (!gate(query as { table?: string })) return resolve(answer);
      started++;
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      void opened.then(() => resolve(answer));
    });
  return { executor, started: () => started, release: () => open() };
}

/** Resolves once `check()` holds, polling every few milliseconds (for events on other sockets). */
export async function until(check: () => boolean | Promise<boolean>, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The value of one Prometheus sample line, e.g. metric('shoal_x_total{reason="y"}'), or 0. */
export function metricValue(text: string, series: string): number {
  for (const line of text.split('\n')) {
    if (line.startsWith(`${series} `)) return Number(line.slice(series.length + 1));
  }
  return 0;
}
