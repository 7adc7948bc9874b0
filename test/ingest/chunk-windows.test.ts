/**
 * Chunks are views of the chunker's windows (chunker.ts): a chunk must stay as it was cut while
 * the chunker reads on (its window is never written again), and a window goes back to the pool
 * only once its chunker and every chunk cut from it let go (`releaseChunk`).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { chunkBuffers, Chunker, releaseChunk, type ChunkTask } from '../../ingest/chunker.js';

const options = { actorColumn: 'user_id', timeColumn: 'time', maxLineBytes: 1 << 20 };

/** Feeds `text` in reads of `sizes` (in turn), by `push` or straight into the window (`space` + `pushed`); every task, none released. */
function cutAll(text: Buffer, sizes: number[], inPlace: boolean, chunkBytes: number): { chunker: Chunker; tasks: ChunkTask[] } {
  const chunker = new Chunker('ndjson', options, chunkBytes);
  const tasks: ChunkTask[] = [];
  for (let at = 0, k = 0; at < text.length; k++) {
    const n = Math.min(text.length - at, sizes[k % sizes.length]);
    if (inPlace) {
      chunker.space(n).set(text.subarray(at, at + n));
      tasks.push(...chunker.pushed(n));
    } else {
      tasks.push(...chunker.push(text.subarray(at, at + n)));
    }
    at += n;
  }
  tasks.push(...chunker.end());
  return { chunker, tasks };
}

const parseTasks = (tasks: ChunkTask[]): (ChunkTask & { kind: 'parse' })[] => tasks.filter((t): t is ChunkTask & { kind: 'parse' } => t.kind === 'parse');

describe('chunk windows', () => {
  it('keeps every chunk as it was cut while the chunker reads on, by push or in place', () => {
    const line = fc.string({ maxLength: 50 }).map((s) => s.replace(/\n/g, ' '));
    fc.assert(
      fc.property(fc.array(line, { maxLength: 80 }), fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 6 }), fc.boolean(), fc.integer({ min: 8, max: 120 }), (lines, sizes, inPlace, chunkBytes) => {
        const text = Buffer.from(lines.map((l) => `${l}\n`).join(''));
        const { chunker, tasks } = cutAll(text, sizes, inPlace, chunkBytes);
        // Checked only now, after every later byte went into some window: the chunks, in order, are the input.
        const chunks = parseTasks(tasks);
        expect(Buffer.concat(chunks.map((t) => t.bytes)).equals(text)).toBe(true);
        chunker.close();
        for (const t of chunks) releaseChunk(t.bytes);
      }),
      { numRuns: 300 },
    );
  });

  it('gives a window back to the pool once its chunker and all its chunks are done with it', () => {
    chunkBuffers.trim();
    const text = Buffer.from(Array.from({ length: 3000 }, (_, i) => `{"user_id":"u${i}","time":${i}}\n`).join('')); // 100 KB: windows of 16 KiB at most
    const { chunker, tasks } = cutAll(text, [1000], true, 4096);
    const chunks = parseTasks(tasks);
    const windows = [...new Set(chunks.map((t) => t.bytes.buffer as SharedArrayBuffer))];
    expect(windows.length).toBeGreaterThan(2); // the chunker moved on several times
    const last = windows[windows.length - 1];
    const idle = chunkBuffers.idleBytes; // windows left without any chunk
    // The chunker still holds the last window: releasing its chunks does not give it back.
    for (const t of chunks) if (t.bytes.buffer === last) releaseChunk(t.bytes);
    expect(chunkBuffers.idleBytes).toBe(idle);
    chunker.close();
    expect(chunkBuffers.idleBytes).toBe(idle + last.byteLength);
    // The others go back with their last chunk, not before.
    const first = windows[0];
    const ofFirst = chunks.filter((t) => t.bytes.buffer === first);
    for (const t of ofFirst.slice(0, -1)) releaseChunk(t.bytes);
    expect(chunkBuffers.idleBytes).toBe(idle + last.byteLength);
    releaseChunk(ofFirst[ofFirst.length - 1].bytes);
    expect(chunkBuffers.idleBytes).toBe(idle + last.byteLength + first.byteLength);
    for (const t of chunks) if (t.bytes.buffer !== first && t.bytes.buffer !== last) releaseChunk(t.bytes);
    expect(chunkBuffers.idleBytes).toBe(idle + windows.reduce((n, w) => n + w.byteLength, 0));
  });
});
