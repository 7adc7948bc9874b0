/**
 * Helpers for the reliability suite: an in-process server over a data directory that a test
 * keeps between "restarts" (so it can damage files in between), with the store's log captured,
 * plus small request and file-damage helpers.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { Store, type StoreOptions } from '../../engine/index.js';
import { buildApp, type AppOptions, type ShoalApp } from '../../server/app.js';

export interface OpenServer extends ShoalApp {
  store: Store;
  /** Everything the store logged (damage reports, background failures). */
  logs: string[];
  close(flush?: boolean): Promise<void>;
}

/** Opens the store in `dir` and builds the app over it; `close` leaves the directory in place. */
export async function openServer(dir: string, app: Partial<AppOptions> = {}, store: StoreOptions = {}): Promise<OpenServer> {
  const logs: string[] = [];
  const s = await Store.open(dir, { shardCount: 2, ...store, log: (m) => logs.push(m) });
  const shoal = await buildApp({ store: s, ...app });
  return {
    ...shoal,
    store: s,
    logs,
    async close(flush = true) {
      await shoal.shutdown();
      await s.close(flush);
    },
  };
}

export interface Reply {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
}

function reply(r: { statusCode: number; body: string }): Reply {
  let body: unknown = null;
  try {
    body = JSON.parse(r.body);
  } catch {
    body = null;
  }
  return { status: r.statusCode, body, text: r.body };
}

export async function ingest(shoal: ShoalApp, table: string, events: object[], headers: Record<string, string> = {}): Promise<Reply> {
  const payload = events.map((e) => JSON.stringify(e)).join('\n') + '\n';
  const r = await shoal.app.inject({ method: 'POST', url: `/v1/tables/${table}/events`, headers: { 'content-type': 'application/x-ndjson', ...headers }, payload });
  return reply(r);
}

export async function query(shoal: ShoalApp, body: object, headers: Record<string, string> = {}): Promise<Reply> {
  const r = await shoal.app.inject({ method: 'POST', url: '/v1/query', headers, payload: body as Record<string, unknown> });
  return reply(r);
}

export async function get(shoal: ShoalApp, url: string, headers: Record<string, string> = {}): Promise<Reply> {
  return reply(await shoal.app.inject({ method: 'GET', url, headers }));
}

/** Count of events in [fromMs, toMs) through the HTTP query API. */
export async function countIn(shoal: ShoalApp, table: string, fromMs?: number, toMs?: number): Promise<Reply & { count?: number }> {
  const q: Record<string, unknown> = { table, measures: ['count'] };
  if (fromMs !== undefined) q.from = fromMs;
  if (toMs !== undefined) q.to = toMs;
  const r = await query(shoal, q);
  return { ...r, count: r.status === 200 ? (r.body.rows[0]?.[0] ?? 0) : undefined };
}

/** XORs one byte of a file. */
export function flipByte(path: string, offset: number): void {
  const buf = readFileSync(path);
  buf[offset] ^= 0x5a;
  writeFileSync(path, buf);
}

export const DAY_MS = 86_400_000;
export const DAY1 = Date.UTC(2026, 2, 1);
export const DAY2 = DAY1 + DAY_MS;
