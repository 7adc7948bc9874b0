/**
 * `ingest-column-bytes.ts --recode`: re-encodes every block of a stored table with the current
 * encoding family and compares, per column, stored against recoded bytes per event, the encode
 * CPU per event (encodeBest plus the LZ4 attempt, as the segment writer does it), and decode
 * speed (LZ4 plus decode into a reused array, as a scan does it) of both forms. Every recoded
 * block is checked to decode to the stored values (valid rows; null rows too, since encodings
 * promise bit-exact round trips). String dictionaries are recoded too (decoded, then stored in the
 * current form with LZ4 where it pays, as the writer does) and counted in their column's bytes. Times are process CPU time (user + sys, so a busy machine's waiting is left out), the
 * fastest of ROUNDS passes over all blocks; still, compare within one run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { compressIfPays, decodeBlock, decodeDict, decompress, encodeDict, ENCODINGS, type PhysicalKind } from '../engine/encodings/index.js';
import type { BlockRef, SegmentFooter } from '../engine/storage/segment-format.js';
import { SegmentReader } from '../engine/storage/segment-reader.js';
import { encodeBlockPayload } from '../engine/storage/segment-writer.js';

interface Block {
  kind: PhysicalKind;
  rows: number;
  values: Values;
  validity: Uint8Array | null;
  stored: BlockRef;
  storedBytes: Uint8Array;
  recodedId: number;
  recodedCompressed: boolean;
  recodedRawLength: number;
  recoded: Uint8Array;
}

interface ColumnStats {
  blocks: Block[];
  dictBytes: number;
  recodedDictBytes: number;
  encodeMs: number;
  storedDecodeMs: number;
  recodedDecodeMs: number;
}

type Values = Float64Array | Uint32Array | Uint8Array;

/** Timing rounds; the fastest counts, so JIT warm-up and one-off pauses drop out. */
const ROUNDS = 5;

/** Process CPU milliseconds (user + sys). */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

function newValues(kind: PhysicalKind, n: number): Values {
  return kind === 'f64' ? new Float64Array(n) : kind === 'u32' ? new Uint32Array(n) : new Uint8Array(n);
}

/** Undoes LZ4 on a stored payload, then decodes its values into `out`, as a scan does. */
function decodePayload(stored: Uint8Array, compressed: boolean, rawLength: number, validityBytes: number, id: number, kind: PhysicalKind, n: number, out: Values): Uint8Array | null {
  const payload = compressed ? decompress(stored, rawLength) : stored;
  const validity = validityBytes === 0 ? null : payload.subarray(0, validityBytes);
  decodeBlock(id, payload.subarray(validityBytes), kind, n, out, validity);
  return validity;
}

/** The writer's work for one block: best encoding, validity in front, LZ4 where it pays. */
function encodeLikeWriter(values: Values, kind: PhysicalKind, validity: Uint8Array | null): { id: number; compressed: boolean; bytes: Uint8Array; rawLength: number } {
  const { encodingId, payload } = encodeBlockPayload(values, kind, validity);
  const { compressed, bytes: storedForm } = compressIfPays(payload);
  return { id: encodingId, compressed, bytes: storedForm, rawLength: payload.length };
}

function sameBits(a: Values, b: Values, n: number): boolean {
  if (a instanceof Float64Array) {
    const x = new Uint32Array(a.buffer, a.byteOffset, 2 * n);
    const y = new Uint32Array(b.buffer, b.byteOffset, 2 * n);
    for (let i = 0; i < 2 * n; i++) if (x[i] !== y[i]) return false;
    return true;
  }
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return false;
  return true;
}

function loadBlock(file: Buffer, ref: BlockRef, kind: PhysicalKind, n: number): Block {
  const storedBytes = file.subarray(ref.o, ref.o + ref.l);
  const values = newValues(kind, n);
  const validity = decodePayload(storedBytes, ref.z === 1, ref.r, ref.vl, ref.e, kind, n, values);
  return { kind, rows: n, values, validity: validity?.slice() ?? null, stored: ref, storedBytes, recodedId: 0, recodedCompressed: false, recodedRawLength: 0, recoded: storedBytes };
}

function statsFor(all: Map<string, ColumnStats>, name: string): ColumnStats {
  let s = all.get(name);
  if (s === undefined) {
    s = { blocks: [], dictBytes: 0, recodedDictBytes: 0, encodeMs: Infinity, storedDecodeMs: Infinity, recodedDecodeMs: Infinity };
    all.set(name, s);
  }
  return s;
}

function loadSegment(all: Map<string, ColumnStats>, path: string, footer: SegmentFooter): void {
  const file = readFileSync(path);
  footer.rowGroups.forEach((n, g) => {
    statsFor(all, '$actor').blocks.push(loadBlock(file, footer.actor[g], 'u32', n));
    statsFor(all, '$time').blocks.push(loadBlock(file, footer.time[g], 'f64', n));
    for (const c of footer.columns) {
      const ref = c.blocks[g];
      if (ref === null) continue;
      const kind: PhysicalKind = c.type === 'number' ? 'f64' : c.type === 'boolean' ? 'u8' : 'u32';
      statsFor(all, c.name).blocks.push(loadBlock(file, ref, kind, n));
    }
  });
  for (const c of footer.columns) {
    if (c.dict === undefined) continue;
    const stored = file.subarray(c.dict.o, c.dict.o + c.dict.l);
    const dict = decodeDict(c.dict.z === 1 ? decompress(stored, c.dict.r) : stored);
    const s = statsFor(all, c.name);
    s.dictBytes += c.dict.l;
    s.recodedDictBytes += compressIfPays(encodeDict(dict)).bytes.length;
  }
}

/** Encodes, then decodes both forms, ROUNDS times each, keeping the fastest round; checks the recoded blocks. */
function measure(name: string, s: ColumnStats): void {
  for (let round = 0; round < ROUNDS; round++) {
    const t0 = cpuMs();
    for (const b of s.blocks) {
      const r = encodeLikeWriter(b.values, b.kind, b.validity);
      b.recodedId = r.id;
      b.recodedCompressed = r.compressed;
      b.recoded = r.bytes;
      b.recodedRawLength = r.rawLength;
    }
    s.encodeMs = Math.min(s.encodeMs, cpuMs() - t0);
  }
  const outs = new Map<PhysicalKind, Values>();
  const outFor = (b: Block): Values => {
    let out = outs.get(b.kind);
    if (out === undefined || out.length < b.rows) outs.set(b.kind, (out = newValues(b.kind, 65536)));
    return out;
  };
  for (let round = 0; round < ROUNDS; round++) {
    const t0 = cpuMs();
    for (const b of s.blocks) decodePayload(b.storedBytes, b.stored.z === 1, b.stored.r, b.stored.vl, b.stored.e, b.kind, b.rows, outFor(b));
    const t1 = cpuMs();
    for (const b of s.blocks) {
      decodePayload(b.recoded, b.recodedCompressed, b.recodedRawLength, b.validity?.length ?? 0, b.recodedId, b.kind, b.rows, outFor(b));
    }
    const t2 = cpuMs();
    s.storedDecodeMs = Math.min(s.storedDecodeMs, t1 - t0);
    s.recodedDecodeMs = Math.min(s.recodedDecodeMs, t2 - t1);
  }
  for (const b of s.blocks) {
    const out = newValues(b.kind, b.rows);
    decodePayload(b.recoded, b.recodedCompressed, b.recodedRawLength, b.validity?.length ?? 0, b.recodedId, b.kind, b.rows, out);
    if (!sameBits(b.values, out, b.rows)) throw new Error(`${name}: a recoded block (${ENCODINGS.get(b.recodedId)!.name}) decodes differently`);
  }
}

/** Recodes every `every`-th segment of `tableDir` and prints the per-column comparison. */
export function recodeTable(tableDir: string, every: number): void {
  const segDir = join(tableDir, 'segments');
  const all = new Map<string, ColumnStats>();
  let rows = 0;
  const names = readdirSync(segDir).sort().filter((_, i) => i % every === 0);
  for (const name of names) {
    const reader = SegmentReader.open(join(segDir, name));
    const footer = reader.footer;
    reader.close();
    rows += footer.rowCount;
    loadSegment(all, join(segDir, name), footer);
  }
  for (const [name, s] of all) measure(name, s);
  const perEvent = (b: number): string => (b / rows).toFixed(3).padStart(6);
  const rate = (n: number, ms: number): string => (n / ms / 1e3).toFixed(0).padStart(5);
  let stored = 0;
  let recoded = 0;
  let encodeMs = 0;
  process.stdout.write(`${names.length} segments, ${rows.toLocaleString('en-US')} rows; B/event stored → recoded (blocks and dictionaries); ` +
    'encode ns/event; decode M values/s stored → recoded\n');
  const summary = [...all].map(([name, s]) => {
    const encodings = new Map<string, number>();
    for (const b of s.blocks) {
      const e = `${ENCODINGS.get(b.recodedId)!.name}${b.recodedCompressed ? '+lz4' : ''}`;
      encodings.set(e, (encodings.get(e) ?? 0) + 1);
    }
    const sum = (f: (b: Block) => number): number => s.blocks.reduce((a, b) => a + f(b), 0);
    return { name, s, encodings, stored: sum((b) => b.storedBytes.length) + s.dictBytes, recoded: sum((b) => b.recoded.length) + s.recodedDictBytes, rows: sum((b) => b.rows) };
  });
  for (const { name, s, encodings, stored: st, recoded: rc, rows: n } of summary.sort((a, b) => b.stored - a.stored)) {
    stored += st;
    recoded += rc;
    encodeMs += s.encodeMs;
    const encs = [...encodings].sort((a, b) => b[1] - a[1]).map(([e, k]) => `${e}×${k}`).join(' ');
    process.stdout.write(
      `${name.padEnd(16)} ${perEvent(st)} → ${perEvent(rc)}  enc ${((s.encodeMs * 1e6) / rows).toFixed(0).padStart(4)} ns  ` +
        `dec ${rate(n, s.storedDecodeMs)} → ${rate(n, s.recodedDecodeMs)}  ${encs}\n`,
    );
  }
  process.stdout.write(`${'total blocks+dicts'.padEnd(16)} ${perEvent(stored)} → ${perEvent(recoded)}  enc ${((encodeMs * 1e6) / rows).toFixed(0)} ns/event\n`);
}
