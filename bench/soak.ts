/**
 * Fault runs against a real server process (`node --import tsx server/cli.ts serve`, from
 * sources), for test/reliability/ (short mode) and by hand (long mode):
 *
 *  - crash loop: concurrent HTTP ingest clients keep a ledger of acknowledged batches, each sent
 *    with an Idempotency-Key; the server is SIGKILLed at a random moment, restarted, and the
 *    ledger is checked through the query API: every acknowledged batch present exactly once,
 *    every batch in flight at the kill wholly present or wholly absent, nothing else. Batches in
 *    flight are then retried with their keys, which must make them present exactly once.
 *  - soak: ingest clients and mixed queries for a fixed time, the server's RSS sampled.
 *
 *   npm run soak -- --kills 50 --minutes 10 [--clients 4] [--seed 1] [--tail-mb 8] [--data DIR] [--out FILE]
 *
 * (`--tail-mb` is the soak server's SHOAL_INGEST_MEMORY_MB: it flushes at half of it.)
 *
 * Prints a JSON report. Benchmarks never assert; the tests decide what the figures must be.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { mulberry32 } from './generator/rng.js';

const CLI = fileURLToPath(new URL('../server/cli.ts', import.meta.url));
const TABLE = 'soak';
const BASE_MS = Date.UTC(2026, 5, 1);

/** A small seeded PRNG, so a run can be repeated from its seed. */
export const prng = mulberry32;

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer();
    srv.once('error', fail);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => ok(port));
    });
  });
}

export interface ServerProcess {
  url: string;
  pid: number;
  child: ChildProcess;
  /** Everything the server wrote to stderr (damage reports, errors). */
  stderr(): string;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
}

/** Starts `shoal serve` on a free loopback port and waits until it listens. */
export async function startServer(dataDir: string, env: NodeJS.ProcessEnv = {}): Promise<ServerProcess> {
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve', '--data', dataDir, '--port', String(port), '--host', '127.0.0.1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, SHOAL_API_KEYS: '', SHOAL_API_KEYS_FILE: '', ...env },
    });
    let out = '';
    let err = '';
    child.stderr!.on('data', (d) => (err += d));
    const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
    const ready = await new Promise<boolean>((ok) => {
      child.stdout!.on('data', (d) => {
        out += d;
        if (out.includes('shoal: serving')) ok(true);
      });
      void exited.then(() => ok(false));
    });
    if (ready) return { url: `http://127.0.0.1:${port}`, pid: child.pid!, child, stderr: () => err, exited };
    if (attempt >= 3 || !err.includes('EADDRINUSE')) throw new Error(`server did not start: ${err.slice(-2000)}`);
  }
}

export async function killServer(server: ServerProcess): Promise<void> {
  server.child.kill('SIGKILL');
  await server.exited;
}

interface Batch {
  id: number;
  body: string;
  size: number;
  sumI: number;
}

/** A batch of events tagged with its id; times spread over three days (several partitions). */
function makeBatch(id: number, r: () => number): Batch {
  const size = 1 + Math.floor(r() * 200);
  const lines: string[] = [];
  for (let i = 0; i < size; i++) {
    const timeMs = BASE_MS + Math.floor(r() * 3 * 86_400_000);
    lines.push(JSON.stringify({ user_id: `u${Math.floor(r() * 2000)}`, time: timeMs, batch: id, i, kind: `k${Math.floor(r() * 12)}`, latency_ms: Math.round(r() * 5000) / 10 }));
  }
  return { id, body: lines.join('\n') + '\n', size, sumI: (size * (size - 1)) / 2 };
}

/** No request may hang a run: one unanswered for this long fails it, naming the request. */
const REQUEST_TIMEOUT_MS = 60_000;
/** How long a server may take to exit after SIGTERM before it is killed and reported. */
const EXIT_TIMEOUT_MS = 30_000;

async function post(url: string, path: string, body: string, headers: Record<string, string>): Promise<{ status: number; json: any }> {
  let res: Response;
  try {
    res = await fetch(url + path, { method: 'POST', body, headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  } catch (err) {
    if ((err as Error).name !== 'TimeoutError') throw err;
    throw new Error(`POST ${path} got no answer within ${REQUEST_TIMEOUT_MS / 1000} s`);
  }
  const text = await res.text();
  return { status: res.status, json: text.length > 0 ? JSON.parse(text) : null };
}

function sendBatch(url: string, b: Batch): Promise<{ status: number; json: any }> {
  return post(url, `/v1/tables/${TABLE}/events`, b.body, { 'content-type': 'application/x-ndjson', 'idempotency-key': `batch-${b.id}` });
}

export interface Ledger {
  /** Acknowledged batches by id. */
  acked: Map<number, Batch>;
  /** Sent but unanswered when the server died: each must be wholly present or wholly absent. */
  inFlight: Map<number, Batch>;
}

/** Per-batch (count, sum(i)) as the server stores them. */
async function storedBatches(url: string): Promise<Map<number, [number, number]>> {
  const q = { table: TABLE, measures: ['count', 'sum(i)'], groupBy: ['batch'], limit: 100_000 };
  const res = await post(url, '/v1/query', JSON.stringify(q), { 'content-type': 'application/json' });
  if (res.status === 404) return new Map();
  if (res.status !== 200) throw new Error(`ledger query failed: ${res.status} ${JSON.stringify(res.json)}`);
  return new Map(res.json.rows.map((row: [number, number, number]) => [row[0], [row[1], row[2]]]));
}

/**
 * Checks the server against the ledger; returns problems (empty when all is well) and moves
 * in-flight batches found whole into `acked`.
 */
export async function verifyLedger(url: string, ledger: Ledger): Promise<{ problems: string[]; events: number }> {
  const stored = await storedBatches(url);
  const problems: string[] = [];
  let events = 0;
  for (const [id, [count, sumI]] of stored) {
    const b = ledger.acked.get(id) ?? ledger.inFlight.get(id);
    if (b === undefined) problems.push(`batch ${id} stored but never sent`);
    else if (count !== b.size || sumI !== b.sumI) problems.push(`batch ${id}: ${count} rows (sum ${sumI}), sent ${b.size} (sum ${b.sumI})`);
    events += count;
  }
  for (const [id, b] of ledger.acked) if (!stored.has(id)) problems.push(`acknowledged batch ${id} (${b.size} events) missing`);
  for (const [id, b] of ledger.inFlight) {
    if (stored.has(id)) {
      ledger.acked.set(id, b);
      ledger.inFlight.delete(id);
    }
  }
  const total = await post(url, '/v1/query', JSON.stringify({ table: TABLE, measures: ['count'] }), { 'content-type': 'application/json' });
  const totalCount = total.status === 200 ? (total.json.rows[0]?.[0] ?? 0) : 0;
  if (totalCount !== events) problems.push(`total count ${totalCount} disagrees with per-batch sum ${events}`);
  return { problems, events };
}

/** Ingest clients sending batches until `stop()`; answered batches go to the ledger. */
function runClients(url: string, ledger: Ledger, clients: number, r: () => number, nextId: () => number): { stop: () => Promise<void>; firstAck: Promise<unknown> } {
  let stopping = false;
  let ackSeen: () => void = () => {};
  const firstAck = new Promise<void>((ok) => (ackSeen = ok));
  const loops = Array.from({ length: clients }, async () => {
    while (!stopping) {
      const b = makeBatch(nextId(), r);
      ledger.inFlight.set(b.id, b);
      try {
        const res = await sendBatch(url, b);
        if (res.status !== 200) throw new Error(`ingest answered ${res.status}: ${JSON.stringify(res.json)}`);
        ledger.inFlight.delete(b.id);
        ledger.acked.set(b.id, b);
        ackSeen();
      } catch (err) {
        // The server died under us: the batch stays in flight; this client stops.
        if ((err as Error).message.startsWith('ingest answered')) throw err;
        return;
      }
    }
  });
  return {
    // Also settles if every client stops (or fails) before anything is acknowledged.
    firstAck: Promise.race([firstAck, Promise.allSettled(loops)]),
    stop: async () => {
      stopping = true;
      await Promise.all(loops);
    },
  };
}

export interface CrashLoopReport {
  kills: number;
  killsSurvived: number;
  batchesAcknowledged: number;
  batchesRetried: number;
  eventsVerified: number;
  problems: string[];
  elapsedS: number;
}

/**
 * SIGKILLs the server `kills` times at random moments under concurrent ingest and checks the
 * ledger after every restart.
 */
export async function runCrashLoop(opts: { dataDir: string; kills: number; clients?: number; seed?: number; maxDelayMs?: number; log?: (m: string) => void }): Promise<CrashLoopReport> {
  const started = performance.now();
  const r = prng(opts.seed ?? 1);
  const ledger: Ledger = { acked: new Map(), inFlight: new Map() };
  let id = 0;
  const report: CrashLoopReport = { kills: opts.kills, killsSurvived: 0, batchesAcknowledged: 0, batchesRetried: 0, eventsVerified: 0, problems: [], elapsedS: 0 };
  for (let round = 0; round <= opts.kills; round++) {
    const server = await startServer(opts.dataDir);
    const wasInFlight = [...ledger.inFlight.values()];
    const { problems, events } = await verifyLedger(server.url, ledger);
    if (server.stderr().includes('damaged')) problems.push(`damage reported after a crash: ${server.stderr().slice(-500)}`);
    report.problems.push(...problems.map((p) => `after kill ${round}: ${p}`));
    report.eventsVerified = events;
    if (round > 0 && problems.length === 0) report.killsSurvived++;
    // Retry everything that was in flight, stored or not, with the same idempotency keys: from
    // now on each must be stored exactly once (checked after the next kill).
    for (const b of wasInFlight) {
      const res = await sendBatch(server.url, b);
      if (res.status !== 200) report.problems.push(`retry of batch ${b.id}: ${res.status}`);
      ledger.inFlight.delete(b.id);
      ledger.acked.set(b.id, b);
      report.batchesRetried++;
    }
    if (round === opts.kills) {
      const final = await verifyLedger(server.url, ledger);
      report.problems.push(...final.problems.map((p) => `final: ${p}`));
      report.eventsVerified = final.events;
      server.child.kill('SIGTERM');
      await server.exited;
      break;
    }
    const clients = runClients(server.url, ledger, opts.clients ?? 4, r, () => ++id);
    await clients.firstAck;
    await new Promise((ok) => setTimeout(ok, Math.floor(r() * (opts.maxDelayMs ?? 600))));
    await killServer(server);
    await clients.stop();
    opts.log?.(`kill ${round + 1}/${opts.kills}: ${ledger.acked.size} batches acknowledged, ${ledger.inFlight.size} in flight`);
  }
  report.batchesAcknowledged = ledger.acked.size;
  report.elapsedS = Math.round((performance.now() - started) / 100) / 10;
  return report;
}

/** Resident set size of a process in bytes (Linux /proc), or null where unavailable. */
export function rssBytes(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? null : Number(m[1]) * 1024;
  } catch {
    return null;
  }
}

const SOAK_QUERIES: object[] = [
  { table: TABLE, measures: ['count', 'p99(latency_ms)'], groupBy: ['kind'] },
  { table: TABLE, measures: ['count', 'uniq($actor)'], bucket: '1h' },
  { table: TABLE, measures: ['avg(latency_ms)', 'max(latency_ms)'], where: ['kind', 'in', ['k1', 'k2']], groupBy: ['$actor'], limit: 50 },
  { table: TABLE, kind: 'samples', limit: 100, where: ['latency_ms', '>', 400] },
];

export interface SoakReport {
  durationS: number;
  eventsIngested: number;
  queries: number;
  queryErrors: number;
  /** [seconds since start, RSS MiB] every sample. */
  rssMiB: [number, number][];
  /** At the end: segments on disk and rows still in the in-memory tails. */
  segments: number;
  tailRows: number;
  problems: string[];
}

/** Ingest and mixed queries for `durationMs`, sampling the server's RSS every `sampleMs`. */
export async function runSoak(opts: { dataDir: string; durationMs: number; sampleMs?: number; clients?: number; queryClients?: number; seed?: number; ingestPauseMs?: number; env?: NodeJS.ProcessEnv }): Promise<SoakReport> {
  const server = await startServer(opts.dataDir, opts.env);
  const r = prng(opts.seed ?? 7);
  const started = performance.now();
  const report: SoakReport = { durationS: opts.durationMs / 1000, eventsIngested: 0, queries: 0, queryErrors: 0, rssMiB: [], segments: 0, tailRows: 0, problems: [] };
  const until = started + opts.durationMs;
  let id = 0;
  const sample = (): void => {
    const rss = rssBytes(server.pid);
    if (rss !== null) report.rssMiB.push([Math.round((performance.now() - started) / 100) / 10, Math.round(rss / 1048576)]);
  };
  sample();
  const sampler = setInterval(sample, opts.sampleMs ?? 1000);
  const ledger: Ledger = { acked: new Map(), inFlight: new Map() };
  const ingestLoops = Array.from({ length: opts.clients ?? 2 }, async () => {
    while (performance.now() < until) {
      const b = makeBatch(++id, r);
      const res = await sendBatch(server.url, b);
      if (res.status !== 200) report.problems.push(`ingest ${res.status}: ${JSON.stringify(res.json).slice(0, 200)}`);
      else ledger.acked.set(b.id, b);
      if (opts.ingestPauseMs) await new Promise((ok) => setTimeout(ok, opts.ingestPauseMs));
    }
  });
  const queryLoops = Array.from({ length: opts.queryClients ?? 2 }, async (_, k) => {
    let n = k;
    while (performance.now() < until) {
      const q = SOAK_QUERIES[n++ % SOAK_QUERIES.length];
      const afterFirstAck = ledger.acked.size > 0;
      const res = await post(server.url, '/v1/query', JSON.stringify(q), { 'content-type': 'application/json' });
      report.queries++;
      // Until the first ingest is acknowledged the table does not exist (404) or has no committed
      // columns yet (an ingest's split is paced, so its columns appear at its commit: 400
      // UNKNOWN_COLUMN). A query sent after an acknowledgement must answer.
      const code = (res.json as { error?: { code?: string } } | null)?.error?.code;
      const beforeData = res.status === 404 || (res.status === 400 && code === 'UNKNOWN_COLUMN');
      if (res.status !== 200 && !(beforeData && !afterFirstAck)) {
        report.queryErrors++;
        report.problems.push(`query ${res.status}: ${JSON.stringify(res.json).slice(0, 200)}`);
      }
    }
  });
  try {
    await Promise.all([...ingestLoops, ...queryLoops]);
    sample();
    const check = await verifyLedger(server.url, ledger);
    report.problems.push(...check.problems);
    report.eventsIngested = check.events;
    const stats = (await (await fetch(`${server.url}/v1/tables/${TABLE}`)).json()) as { segmentCount: number; tailRows: number };
    report.segments = stats.segmentCount;
    report.tailRows = stats.tailRows;
  } finally {
    clearInterval(sampler);
    server.child.kill('SIGTERM');
    const exited = await Promise.race([server.exited.then(() => true), new Promise<boolean>((ok) => setTimeout(ok, EXIT_TIMEOUT_MS, false))]);
    if (!exited) {
      report.problems.push(`server did not exit within ${EXIT_TIMEOUT_MS / 1000} s of SIGTERM; stderr: ${server.stderr().slice(-500)}`);
      server.child.kill('SIGKILL');
      await server.exited;
    }
  }
  return report;
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      kills: { type: 'string', default: '50' },
      minutes: { type: 'string', default: '10' },
      clients: { type: 'string', default: '4' },
      seed: { type: 'string', default: '1' },
      'tail-mb': { type: 'string', default: '8' },
      data: { type: 'string' },
      out: { type: 'string' },
    },
  });
  const base = values.data ?? mkdtempSync(join(tmpdir(), 'shoal-soak-'));
  const log = (m: string): void => void process.stderr.write(`${m}\n`);
  try {
    const crash = await runCrashLoop({ dataDir: join(base, 'crash'), kills: Number(values.kills), clients: Number(values.clients), seed: Number(values.seed), log });
    log(`crash loop: ${JSON.stringify(crash)}`);
    // Paced ingest, and a small tail memory budget (the server flushes at half of it), so a
    // 10-minute soak crosses flushes and compactions instead of only growing its tails.
    const soak = await runSoak({
      dataDir: join(base, 'soak'),
      durationMs: Number(values.minutes) * 60_000,
      sampleMs: 5000,
      clients: 2,
      queryClients: 2,
      seed: Number(values.seed),
      ingestPauseMs: 50,
      env: { SHOAL_INGEST_MEMORY_MB: values['tail-mb'] },
    });
    const report = { crash, soak, node: process.version, at: new Date().toISOString() };
    const text = JSON.stringify(report, null, 1);
    if (values.out) writeFileSync(values.out, text);
    process.stdout.write(`${text}\n`);
  } finally {
    if (values.data === undefined) rmSync(base, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main(process.argv.slice(2)).catch((err) => {
    process.stderr.write(`soak: ${(err as Error).stack ?? err}\n`);
    process.exitCode = 1;
  });
}
