/**
 * Batch buffers recycled between the reading thread and the parse workers (batch-buffers.ts):
 * size classes waste at most an eighth; the thread's shelf (a BufferPool) hands back what it was
 * given, zeroed; and through a real worker pool, a
 * released batch's arrays (shared memory) go back to a worker with its next chunk, and the
 * batches built in them read exactly as inline parsing does — including sparse columns, whose
 * null bytes a stale buffer would corrupt.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { releaseBatch, shelf, sizeClass, takeF64, takeU8 } from '../../ingest/batch-buffers.js';
import type { EventBatch } from '../../ingest/batch.js';
import { readEvents } from '../../ingest/index.js';
import { WorkerPool } from '../../ingest/worker-pool.js';

describe('sizeClass', () => {
  it('rounds up by at most an eighth, and a class is its own class', () => {
    for (let b = 1; b < 3_000_000; b = Math.ceil(b * 1.37) + 3) {
      const c = sizeClass(b);
      expect(c).toBeGreaterThanOrEqual(b);
      if (b > 4096) expect(c - b).toBeLessThan(b / 8);
      else expect(c).toBe(4096);
      expect(sizeClass(c)).toBe(c);
    }
  });
});

describe('the batch shelf', () => {
  it('reuses a buffer, zeroing it for null bytes only', () => {
    const dirty = new SharedArrayBuffer(sizeClass(80_000));
    new Uint8Array(dirty).fill(0xff);
    shelf.release(dirty);
    const a = takeF64(10_000);
    expect(a.buffer).toBe(dirty);
    shelf.release(dirty);
    const b = takeU8(80_000);
    expect(b.buffer).toBe(dirty);
    expect(b.every((x) => x === 0)).toBe(true);
  });
});

/** NDJSON lines: `x` null on odd rows (dense), or present on every tenth (sparse). */
function ndjson(n: number, from: number, sparse: boolean): Buffer {
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const e: Record<string, unknown> = { user_id: `u${(from + i) % 300}`, time: Date.UTC(2026, 0, 1) + (from + i) * 1000, event: ['a', 'b', 'c'][i % 3] };
    if (sparse ? i % 10 === 0 : i % 2 === 0) e.x = (from + i) * 0.5;
    if (sparse && i % 10 === 5) e.note = `n${i}`;
    lines.push(JSON.stringify(e));
  }
  return Buffer.from(lines.join('\n') + '\n');
}

/** Plain content of a batch (read before it is released). */
function plain(b: EventBatch): unknown {
  return { count: b.count, lines: [...b.lines], timeMs: [...b.timeMs], actors: b.actors, columns: [...b.columns] };
}

async function read(body: Buffer, pool: WorkerPool | null): Promise<EventBatch[]> {
  const out: EventBatch[] = [];
  const opts = pool === null ? { workers: 0 } : { pool };
  for await (const b of readEvents(Readable.from([body]), { format: 'ndjson', chunkBytes: 64 * 1024, ...opts })) out.push(b);
  return out;
}

describe('recycling through a worker pool', () => {
  it('sends released buffers back to the workers, whose next batches read as inline parsing does', async () => {
    const pool = new WorkerPool(2, { maxPerWorker: 2 });
    try {
      const dense = await read(ndjson(20_000, 0, false), pool);
      expect(dense.length).toBeGreaterThan(4);
      const denseInline = await read(ndjson(20_000, 0, false), null);
      expect(dense.map(plain)).toEqual(denseInline.map(plain));
      for (const b of dense) releaseBatch(b);
      const held = pool.spareBytesHeld;
      expect(held).toBeGreaterThan(0);
      releaseBatch(dense[0]); // a second release does nothing
      expect(pool.spareBytesHeld).toBe(held);

      const sparse = await read(ndjson(20_000, 20_000, true), pool);
      expect(pool.spareBytesHeld).toBeLessThan(held); // they went out with the chunks
      // Shared, not transferred: no ArrayBuffer of a batch comes and goes as external memory of this thread.
      expect(dense.every((b) => b.timeMs.buffer instanceof SharedArrayBuffer && b.lines.buffer instanceof SharedArrayBuffer)).toBe(true);
      const sparseInline = await read(ndjson(20_000, 20_000, true), null);
      expect(sparse.map(plain)).toEqual(sparseInline.map(plain));
    } finally {
      await pool.close();
    }
  });
});
