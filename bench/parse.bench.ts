/**
 * NDJSON parse throughput over 1M realistic product events (~140 bytes: user_id, time as ISO or
 * epoch ms, event, path, country, os, latency_ms, props.plan), in lines/s:
 *  - `JSON.parse` of each line alone (the baseline: no flattening, no batch);
 *  - the JSON.parse path to EventBatches (parse, flatten, actor/time, columns), one thread;
 *  - the byte-level fast path to the same EventBatches, one thread;
 *  - the fast path as a parse worker runs it: coded against the thread's stream dictionaries and
 *    put in wire form (encodeBatch), then decoded as the reading thread does (one thread);
 *  - readEvents on a file: on the calling thread alone (read, chunk, parse), then with worker
 *    threads (chunks parsed by workers and by the calling thread), whole runs including worker
 *    start-up.
 * The two single-thread paths are checked to give identical batches before timing.
 *
 * Run: npx tsx bench/parse.bench.ts   (BENCH_LINES=…, BENCH_ITERATIONS=…, BENCH_WORKERS=… to change)
 */
import { rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { Bench } from 'tinybench';
import { decodeBatch, DictMirrors, DictStreams, encodeBatch } from '../ingest/batch-wire.js';
import { readEvents } from '../ingest/index.js';
import { parseTask, type ChunkContext } from '../ingest/parse-chunk.js';
import { mulberry32 } from './generator/rng.js';

const LINES = Number(process.env.BENCH_LINES ?? 1_000_000);
const ITERATIONS = Number(process.env.BENCH_ITERATIONS ?? 3);
const WORKERS = Number(process.env.BENCH_WORKERS ?? availableParallelism());
const CHUNK_BYTES = 4 * 1024 * 1024;

/** mulberry32: deterministic data, so runs compare. */
const rng = mulberry32;

const EVENTS = ['page_view', 'page_view', 'page_view', 'search', 'view_item', 'add_to_cart', 'checkout', 'purchase', 'login'];
const PATHS = ['/', '/search', '/pricing', '/cart', '/checkout', '/docs', '/blog', '/item/1042', '/item/77', '/account'];
const COUNTRIES = ['US', 'US', 'US', 'DE', 'GB', 'FR', 'IN', 'BR', 'JP', 'CA'];
const OSES = ['ios', 'android', 'windows', 'macos', 'linux'];

/** Events in time order from 50k users with skewed activity; half the times ISO, half epoch ms. */
function generate(n: number): string[] {
  const r = rng(42);
  const lines: string[] = [];
  let t = Date.UTC(2026, 9, 1);
  for (let i = 0; i < n; i++) {
    t += Math.floor(r() * 200);
    const user = Math.floor(50_000 * r() ** 2);
    lines.push(
      JSON.stringify({
        user_id: `u${user}`,
        time: i % 2 === 0 ? new Date(t).toISOString() : t,
        event: EVENTS[Math.floor(r() * EVENTS.length)],
        path: PATHS[Math.floor(r() * PATHS.length)],
        country: COUNTRIES[Math.floor(r() * COUNTRIES.length)],
        os: OSES[(user * 7) % OSES.length],
        latency_ms: Math.round(r() ** 3 * 300_000) / 100,
        props: { plan: user % 5 === 0 ? 'pro' : 'free' },
      }),
    );
  }
  return lines;
}

/** Cuts after newlines, about every CHUNK_BYTES, as the chunker does. */
function chunks(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < buf.length; ) {
    const nl = buf.indexOf(0x0a, Math.min(buf.length - 1, at + CHUNK_BYTES - 1));
    const end = nl < 0 ? buf.length : nl + 1;
    out.push(buf.subarray(at, end));
    at = end;
  }
  return out;
}

const lines = generate(LINES);
const text = lines.join('\n') + '\n';
const data = Buffer.from(text);
const parts = chunks(data);
const file = join(tmpdir(), `shoal-parse-bench-${process.pid}.ndjson`);
writeFileSync(file, data);
const ctx: ChunkContext = { format: 'ndjson', options: { actorColumn: 'user_id', timeColumn: 'time', maxLineBytes: 1 << 20 }, csv: null };

function parseAll(fastPath: boolean): number {
  let n = 0;
  for (const part of parts) n += parseTask(part, null, { ...ctx, fastPath }, 1).count;
  return n;
}

// Both paths must agree, chunk by chunk, before either is timed.
for (const part of parts.slice(0, 2)) {
  if (!isDeepStrictEqual(parseTask(part, null, { ...ctx, fastPath: true }, 1), parseTask(part, null, { ...ctx, fastPath: false }, 1))) {
    throw new Error('the fast path and the JSON.parse path disagree');
  }
}

const bench = new Bench({ iterations: ITERATIONS, time: 0, warmupIterations: 1, warmupTime: 0 });
let sink = 0;
bench.add('JSON.parse per line (baseline, no batch)', () => {
  for (let i = 0; i < lines.length; i++) sink += JSON.parse(lines[i]) === null ? 1 : 0;
});
bench.add('JSON.parse path → EventBatch, 1 thread', () => {
  sink += parseAll(false);
});
bench.add('fast path → EventBatch, 1 thread', () => {
  sink += parseAll(true);
});
const streams = new DictStreams();
const mirrors = new DictMirrors();
bench.add('fast path → wire form → decoded, 1 thread (a worker and the reader)', () => {
  for (const part of parts) {
    const transfer: ArrayBuffer[] = [];
    sink += decodeBatch(encodeBatch(parseTask(part, null, ctx, 1, streams), transfer, streams), mirrors).count;
  }
});
for (const workers of [0, WORKERS]) {
  bench.add(`readEvents(file), ${workers === 0 ? 'no workers' : `${workers} workers`}`, async () => {
    let n = 0;
    for await (const batch of readEvents(file, { workers })) n += batch.count;
    if (n !== LINES) throw new Error(`readEvents gave ${n} events for ${LINES} lines`);
  });
}

try {
  await bench.run();
} finally {
  rmSync(file, { force: true });
}

const rows = bench.tasks.map((task) => {
  const latency = (task.result as { latency?: { mean: number; min: number } }).latency;
  const best = latency?.min ?? NaN;
  return {
    task: task.name,
    'ms (best)': best.toFixed(0),
    'ms (mean)': (latency?.mean ?? NaN).toFixed(0),
    'M lines/s (best)': (LINES / best / 1e3).toFixed(2),
    'MB/s (best)': (data.length / best / 1e3).toFixed(0),
  };
});
console.log(`node ${process.version}, ${LINES} lines, ${(data.length / LINES).toFixed(0)} bytes/line, ${availableParallelism()} CPUs, ${ITERATIONS} runs per task after one warm-up${sink < 0 ? '' : ''}`);
console.table(rows);
