/**
 * Decode throughput of the bit-packed encodings over 1M values, each beside a plain typed-array
 * copy of the same decoded size (the memcpy ceiling a decoder is measured against):
 *  - for-bitpack u32 at residual widths 5, 12 and 20 (string codes, actor ids);
 *  - f64 epoch-ms timestamps: for-bitpack and delta-bitpack on globally sorted timestamps,
 *    for-bitpack on timestamps sorted within per-actor runs, and plain (one memcpy);
 *  - the generator's shapes, old encoding against new: session-shaped timestamps (for-bitpack,
 *    delta-split), latency-like short decimals (dictionary-f64, dictionary-sorted), and a column
 *    valid on 15% of rows with the writer's filler in null rows (rle and for-bitpack over every
 *    row, sparse over the valid rows).
 * The 1M values are encoded as 16 blocks of 65,536 rows (a segment's row group) and every decode
 * writes into a preallocated `out`, as the scan path does; decoders that stage values in scratch
 * arrays would otherwise be measured out of cache.
 *
 * Run: npx tsx bench/encodings.bench.ts   (BENCH_TIME_MS=… to change the time per task)
 */
import { Bench } from 'tinybench';
import { decodeBlock, ENCODINGS, ENCODING_IDS, type PhysicalKind } from '../engine/encodings/index.js';

const N = 1 << 20;
const TIME_MS = Number(process.env.BENCH_TIME_MS ?? 800);

/** xorshift32: deterministic data, so runs compare. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

interface Case {
  name: string;
  kind: PhysicalKind;
  encodingId: number;
  values: Float64Array | Uint32Array;
  /** The block's validity bitmap, for encodings that store only valid rows. */
  validity?: Uint8Array;
}

function u32Case(width: number): Case {
  const r = rng(width);
  const values = new Uint32Array(N);
  const base = 1000;
  for (let i = 0; i < N; i++) values[i] = base + Math.floor(r() * 2 ** width);
  return { name: `for-bitpack u32 w=${width}`, kind: 'u32', encodingId: ENCODING_IDS.forBitpack, values };
}

function sortedTimes(): Float64Array {
  const r = rng(7);
  const values = new Float64Array(N);
  let t = Date.UTC(2026, 0, 1);
  for (let i = 0; i < N; i++) values[i] = t += Math.floor(r() * 1000);
  return values;
}

function actorTimes(): Float64Array {
  const r = rng(8);
  const values = new Float64Array(N);
  const day0 = Date.UTC(2026, 0, 1);
  for (let i = 0; i < N; ) {
    let t = day0 + Math.floor(r() * 7 * 86_400_000);
    const end = Math.min(N, i + 1 + Math.floor(r() * 200));
    for (; i < end; i++) values[i] = t += Math.floor(r() * 120_000);
  }
  return values;
}

/** Times of actors' sessions: gaps of seconds inside a session, jumps between sessions and actors. */
function sessionTimes(): Float64Array {
  const r = rng(9);
  const values = new Float64Array(N);
  const day0 = Date.UTC(2026, 9, 1);
  let t = day0;
  for (let i = 0; i < N; i++) {
    const u = r();
    if (u < 0.05) t = day0 + Math.floor(r() * 86_400_000);
    else if (u < 0.12) t += 600_000 + Math.floor(r() * 20_000_000);
    else t += 200 + Math.floor(15_000 * Math.exp(1.7 * (r() + r() + r() - 1.5)));
    values[i] = t;
  }
  return values;
}

/** Latencies as the generator logs them: one decimal below 100 ms, whole ms above. */
function latencies(): Float64Array {
  const r = rng(10);
  return new Float64Array(N).map(() => {
    const v = [20, 45, 120, 300][Math.floor(r() * 4)] * Math.exp(0.95 * (r() + r() + r() - 1.5));
    return v >= 100 ? Math.round(v) : Math.round(v * 10) / 10;
  });
}

/**
 * A number column valid on 15% of rows, null rows holding the previous valid value (the writer's
 * filler); each row group's first row is valid, so no group starts with nulls to fill forward.
 */
function sparseColumn(): { values: Float64Array; validity: Uint8Array } {
  const r = rng(11);
  const values = new Float64Array(N);
  const validity = new Uint8Array(N / 8);
  let v = 0;
  for (let i = 0; i < N; i++) {
    if (i % 65_536 === 0 || r() < 0.15) {
      v = Math.floor(r() * 60);
      validity[i >> 3] |= 1 << (i & 7);
    }
    values[i] = v;
  }
  return { values, validity };
}

const sorted = sortedTimes();
const sessions = sessionTimes();
const latency = latencies();
const sparse = sparseColumn();
const cases: Case[] = [
  u32Case(5),
  u32Case(12),
  u32Case(20),
  { name: 'for-bitpack f64 sorted ts', kind: 'f64', encodingId: ENCODING_IDS.forBitpack, values: sorted },
  { name: 'delta-bitpack f64 sorted ts', kind: 'f64', encodingId: ENCODING_IDS.deltaBitpack, values: sorted },
  { name: 'for-bitpack f64 per-actor ts', kind: 'f64', encodingId: ENCODING_IDS.forBitpack, values: actorTimes() },
  { name: 'for-bitpack f64 session ts', kind: 'f64', encodingId: ENCODING_IDS.forBitpack, values: sessions },
  { name: 'delta-split f64 session ts', kind: 'f64', encodingId: ENCODING_IDS.deltaSplit, values: sessions },
  { name: 'dictionary-f64 latency', kind: 'f64', encodingId: ENCODING_IDS.dictionaryF64, values: latency },
  { name: 'dictionary-sorted latency', kind: 'f64', encodingId: ENCODING_IDS.dictionarySorted, values: latency },
  { name: 'rle f64 15% valid', kind: 'f64', encodingId: ENCODING_IDS.rle, values: sparse.values },
  { name: 'for-bitpack f64 15% valid', kind: 'f64', encodingId: ENCODING_IDS.forBitpack, values: sparse.values },
  { name: 'sparse f64 15% valid', kind: 'f64', encodingId: ENCODING_IDS.sparse, values: sparse.values, validity: sparse.validity },
];

const bench = new Bench({ time: TIME_MS, warmupTime: 300 });
const info = new Map<string, { decodedBytes: number; encodedBytes: number }>();

const BLOCK_ROWS = 65_536;

interface EncodedBlock {
  start: number;
  bytes: Uint8Array;
  validity: Uint8Array | null;
}

/** The case's values as row groups of BLOCK_ROWS, each encoded alone. */
function encodeBlocks(c: Case): EncodedBlock[] {
  const blocks: EncodedBlock[] = [];
  for (let start = 0; start < N; start += BLOCK_ROWS) {
    const validity = c.validity === undefined ? null : c.validity.slice(start / 8, (start + BLOCK_ROWS) / 8);
    const values = c.values.subarray(start, start + BLOCK_ROWS);
    blocks.push({ start, bytes: ENCODINGS.get(c.encodingId)!.encode(values, c.kind, validity), validity });
  }
  return blocks;
}

function decodeAll(c: Case, blocks: EncodedBlock[], out: Float64Array | Uint32Array): void {
  for (const b of blocks) decodeBlock(c.encodingId, b.bytes, c.kind, BLOCK_ROWS, out.subarray(b.start, b.start + BLOCK_ROWS), b.validity);
}

for (const c of cases) {
  const blocks = encodeBlocks(c);
  const out = c.kind === 'f64' ? new Float64Array(N) : new Uint32Array(N);
  // Check once that the blocks decode to their input; a benchmark of a wrong decoder is worthless.
  decodeAll(c, blocks, out);
  for (let i = 0; i < N; i++) if (out[i] !== c.values[i]) throw new Error(`${c.name}: row ${i} decodes wrongly`);
  const copyName = `  plain copy (${c.kind === 'f64' ? 'f64' : 'u32'} baseline)`;
  info.set(c.name, { decodedBytes: c.values.byteLength, encodedBytes: blocks.reduce((a, b) => a + b.bytes.length, 0) });
  bench.add(c.name, () => {
    decodeAll(c, blocks, out);
  });
  if (!info.has(copyName)) {
    const plainBytes = ENCODINGS.get(ENCODING_IDS.plain)!.encode(c.values, c.kind);
    info.set(copyName, { decodedBytes: c.values.byteLength, encodedBytes: plainBytes.length });
    const copyOut = c.kind === 'f64' ? new Float64Array(N) : new Uint32Array(N);
    bench.add(copyName, () => {
      decodeBlock(ENCODING_IDS.plain, plainBytes, c.kind, N, copyOut);
    });
  }
}

await bench.run();

const p50 = new Map(bench.tasks.map((task) => [task.name, (task.result as { latency?: { p50: number } }).latency?.p50 ?? NaN]));
const rows = bench.tasks.map((task) => {
  const meta = info.get(task.name)!;
  const ms = p50.get(task.name)!;
  const baseline = p50.get(`  plain copy (${meta.decodedBytes / N === 8 ? 'f64' : 'u32'} baseline)`)!;
  return {
    task: task.name,
    'B / value': (meta.encodedBytes / N).toFixed(2),
    'encoded MB': (meta.encodedBytes / 1e6).toFixed(2),
    'ms / 1M (p50)': ms.toFixed(3),
    'M values/s': (N / ms / 1e3).toFixed(0),
    'GB/s decoded': (meta.decodedBytes / ms / 1e6).toFixed(2),
    '× copy time': (ms / baseline).toFixed(1),
  };
});
console.log(`node ${process.version}, ${N} values per decode into a reused array, p50 of ≥${TIME_MS} ms per task`);
console.table(rows);
