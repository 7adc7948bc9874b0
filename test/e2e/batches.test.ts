/**
 * Ingesting a generated file of 1M shuffled events gives exactly 1M rows, and ingesting it in
 * 1, 7 or 1000 batches (separate files, in order) gives identical stored data after compaction.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeNdjson } from '../../bench/generator.js';
import { Store } from '../../engine/index.js';
import { ingestFile } from '../../server/cli/ingest-command.js';
import { tempDir } from '../storage/helpers.js';

const EVENTS = 1_000_000;
let work: ReturnType<typeof tempDir>;
let file: string;

beforeAll(async () => {
  work = tempDir('shoal-e2e-');
  file = join(work.dir, 'events.ndjson');
  await writeNdjson(file, { events: EVENTS, seed: 7, shuffle: true });
});

afterAll(() => work.cleanup());

/** Splits the file into `n` files of consecutive lines. */
function split(n: number): string[] {
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.length > 0);
  const per = Math.ceil(lines.length / n);
  const files: string[] = [];
  for (let i = 0; i < n; i++) {
    const f = join(work.dir, `part-${n}-${i}.ndjson`);
    writeFileSync(f, lines.slice(i * per, (i + 1) * per).join('\n') + '\n');
    files.push(f);
  }
  return files;
}

/** A digest of every stored row in storage order (segments after full compaction). */
async function ingestAndDigest(files: string[], name: string): Promise<{ rows: number; digest: string; segments: number }> {
  const dir = join(work.dir, name);
  const store = await Store.open(dir, { table: { flushRows: 300_000 } });
  const table = await store.getOrCreate('events');
  for (const f of files) await ingestFile(table, f, {});
  await table.flush();
  await table.compact(true);
  const hash = createHash('sha256');
  let rows = 0;
  const snap = table.snapshot();
  const columns = [...snap.schema.keys()];
  hash.update(JSON.stringify([...snap.schema]));
  for (const shard of snap.shards) {
    for (const src of shard.sources) {
      hash.update(`${shard.shard}:${src.rowCount}`);
      for (let g = 0; g < src.rowGroups.length; g++) {
        const ids = src.readActorIds(g);
        hash.update(Buffer.from(ids.buffer, ids.byteOffset, ids.byteLength));
        const t = src.readColumn('$time', g) as { values: Float64Array };
        hash.update(Buffer.from(t.values.buffer, t.values.byteOffset, t.values.byteLength));
        for (const c of columns) {
          const v = src.readColumn(c, g);
          if (v === null) continue;
          hash.update(JSON.stringify(v.validity ? Array.from(v.validity) : null));
          if (v.type === 'string') hash.update(JSON.stringify(Array.from(v.codes, (k) => v.dict[k])));
          else hash.update(Buffer.from(v.values.buffer, v.values.byteOffset, v.values.byteLength));
        }
        rows += ids.length;
      }
    }
  }
  snap.release();
  const segments = table.segments.size;
  await store.close();
  return { rows, digest: hash.digest('hex'), segments };
}

describe('batching does not change what is stored', () => {
  it('stores exactly 1M events, identically for 1, 7 and 1000 batches', async () => {
    const one = await ingestAndDigest([file], 'one');
    expect(one.rows).toBe(EVENTS);
    const seven = await ingestAndDigest(split(7), 'seven');
    const thousand = await ingestAndDigest(split(1000), 'thousand');
    expect(seven.rows).toBe(EVENTS);
    expect(thousand.rows).toBe(EVENTS);
    expect(seven.digest).toBe(one.digest);
    expect(thousand.digest).toBe(one.digest);
    // Three full 1M-event ingests: about a minute on an idle 2-core machine, several when it is shared.
  }, 600_000);
});
