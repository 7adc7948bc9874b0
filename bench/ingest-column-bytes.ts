/**
 * Where a table's bytes on disk go: sums, from every segment footer of a table directory, the
 * stored bytes per column (blocks plus dictionary) and the encodings chosen, and prints bytes
 * per event for each, largest first. Used to decide which encodings to improve.
 *
 *   node --import tsx bench/ingest-column-bytes.ts DATA_DIR/TABLE
 *   node --import tsx bench/ingest-column-bytes.ts DATA_DIR/TABLE --recode [--every K]
 *
 * `--recode` also re-encodes every stored block with the current encoding family (as the segment
 * writer would: encodeBest, then LZ4 where it pays) and prints, per column, stored against
 * recoded bytes per event, encode CPU per event, and decode speed (LZ4 + decode) of the stored
 * and the recoded blocks; see ingest-column-recode.ts. `--every K` samples every K-th segment.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ENCODINGS } from '../engine/encodings/index.js';
import { SegmentReader } from '../engine/storage/segment-reader.js';
import type { BlobRef, BlockRef } from '../engine/storage/segment-format.js';
import { recodeTable } from './ingest-column-recode.js';

interface Usage {
  bytes: number;
  rawBytes: number;
  dictBytes: number;
  encodings: Map<string, number>;
}

function add(usage: Map<string, Usage>, name: string, blocks: readonly (BlockRef | null)[], dict?: BlobRef): void {
  let u = usage.get(name);
  if (u === undefined) {
    u = { bytes: 0, rawBytes: 0, dictBytes: 0, encodings: new Map() };
    usage.set(name, u);
  }
  for (const b of blocks) {
    if (b === null) continue;
    u.bytes += b.l;
    u.rawBytes += b.r;
    const enc = `${ENCODINGS.get(b.e)?.name ?? b.e}${b.z ? '+lz4' : ''}`;
    u.encodings.set(enc, (u.encodings.get(enc) ?? 0) + 1);
  }
  if (dict !== undefined) {
    u.bytes += dict.l;
    u.dictBytes += dict.l;
  }
}

function main(): void {
  const tableDir = process.argv[2];
  if (tableDir === undefined) throw new Error('usage: ingest-column-bytes.ts TABLE_DIR [--recode [--every K]]');
  if (process.argv.includes('--recode')) {
    const k = process.argv.indexOf('--every');
    recodeTable(tableDir, k > 0 ? Number(process.argv[k + 1]) : 1);
    return;
  }
  const segDir = join(tableDir, 'segments');
  const usage = new Map<string, Usage>();
  let rows = 0;
  let fileBytes = 0;
  let footerBytes = 0;
  let segments = 0;
  for (const name of readdirSync(segDir)) {
    const reader = SegmentReader.open(join(segDir, name));
    const f = reader.footer;
    segments++;
    rows += f.rowCount;
    fileBytes += reader.fileBytes;
    let blockBytes = 8 + 16;
    add(usage, '$actor', f.actor);
    add(usage, '$time', f.time);
    for (const c of f.columns) add(usage, c.name, c.blocks, c.dict);
    for (const b of [...f.actor, ...f.time]) blockBytes += b.l;
    for (const c of f.columns) {
      for (const b of c.blocks) if (b !== null) blockBytes += b.l;
      if (c.dict !== undefined) blockBytes += c.dict.l;
    }
    footerBytes += reader.fileBytes - blockBytes;
    reader.close();
  }
  let otherBytes = 0;
  for (const name of readdirSync(tableDir)) {
    const p = join(tableDir, name);
    if (statSync(p).isFile()) otherBytes += statSync(p).size;
  }
  const perEvent = (b: number): string => (b / rows).toFixed(3).padStart(7);
  process.stdout.write(`${segments} segments, ${rows.toLocaleString('en-US')} rows, ${(fileBytes / 1e6).toFixed(1)} MB in segments ` +
    `(${(fileBytes / rows).toFixed(2)} B/event), other files ${(otherBytes / 1e6).toFixed(1)} MB (${(otherBytes / rows).toFixed(2)} B/event)\n`);
  process.stdout.write(`${'footers+trailers'.padEnd(20)} ${perEvent(footerBytes)} B/event\n`);
  const sorted = [...usage].sort((a, b) => b[1].bytes - a[1].bytes);
  for (const [name, u] of sorted) {
    const encs = [...u.encodings].sort((a, b) => b[1] - a[1]).map(([e, n]) => `${e}×${n}`).join(' ');
    process.stdout.write(`${name.padEnd(20)} ${perEvent(u.bytes)} B/event  (dict ${perEvent(u.dictBytes)}, raw ${perEvent(u.rawBytes)})  ${encs}\n`);
  }
}

main();
