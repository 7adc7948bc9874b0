/**
 * Writes one chunk of the scale benchmark (plan.ts) as an NDJSON file: the seeded generator's
 * events for the chunk's users, with user ids moved into the chunk's global range, optionally in
 * a deterministic shuffle (as the 10M comparison files are, so ingest sees users interleaved, not
 * one user's events in a row). The shuffle is the generator's
 * (bench/generator/write.ts `shuffleInto`): temp buckets of ~1M lines next to the output, each
 * permuted in memory; memory is one bucket (~210 MB) plus 256 KiB per open bucket. Same chunk →
 * same bytes.
 */
import { once } from 'node:events';
import { createReadStream, createWriteStream, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { finished } from 'node:stream/promises';
import { eventToJson, generateEvents } from '../generator.js';
import { FileSink, shuffleInto } from '../generator/write.js';
import { globalUserId, type ChunkPlan } from './plan.js';

export interface ChunkFile {
  events: number;
  bytes: number;
  seconds: number;
}

/** The chunk's events as NDJSON lines, user ids in the chunk's global range. */
function* chunkLines(chunk: ChunkPlan, idWidth: number): Generator<string> {
  let local = '';
  let global = '';
  for (const ev of generateEvents({ events: chunk.events, users: chunk.users, seed: chunk.seed, timeFormat: 'iso' })) {
    // a user's events are consecutive, so the id is mapped once per user
    if (ev.user_id !== local) {
      local = ev.user_id;
      global = globalUserId(local, chunk, idWidth);
    }
    ev.user_id = global;
    yield eventToJson(ev);
  }
}

/** Writes `chunk` to `path` (replaced), shuffled unless `shuffle` is false. */
export function writeChunk(path: string, chunk: ChunkPlan, idWidth: number, shuffle: boolean): ChunkFile {
  const started = performance.now();
  const out = new FileSink(openSync(path, 'w'), 4 << 20);
  let events = 0;
  try {
    if (!shuffle) {
      for (const line of chunkLines(chunk, idWidth)) {
        out.writeLine(line);
        events++;
      }
    } else {
      events = shuffleInto(out, dirname(resolve(path)), chunkLines(chunk, idWidth), { events: chunk.events, seed: chunk.seed });
    }
  } finally {
    out.close();
  }
  return { events, bytes: out.bytes, seconds: (performance.now() - started) / 1000 };
}

/** Writes to `to` what follows the first `skip` lines of `from`. */
export async function copyAfterLines(from: string, to: string, skip: number): Promise<void> {
  let seen = 0;
  const out = createWriteStream(to);
  for await (const chunk of createReadStream(from, { highWaterMark: 4 << 20 }) as AsyncIterable<Buffer>) {
    let start = 0;
    while (seen < skip) {
      const nl = chunk.indexOf(10, start);
      if (nl < 0) break;
      seen++;
      start = nl + 1;
    }
    if (seen < skip) continue;
    if (start < chunk.length && !out.write(chunk.subarray(start))) await once(out, 'drain');
  }
  out.end();
  await finished(out);
  if (seen < skip) throw new Error(`${from} has ${seen} lines, fewer than the ${skip} to skip`);
}
