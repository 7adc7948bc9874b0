/** A flipped byte or a truncation in a segment or the manifest is detected and named. */
import { readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CorruptDataError, Store } from '../../engine/index.js';
import { batchOf, dumpTable, rng, tempDir, type PlainEvent } from './helpers.js';

async function storeWithSegments(dir: string): Promise<void> {
  const store = await Store.open(dir);
  const table = await store.getOrCreate('t');
  const r = rng(9);
  const events: PlainEvent[] = [];
  for (let i = 0; i < 5000; i++) events.push({ user: 'one', timeMs: Date.UTC(2026, 0, 1) + i * 1000, v: r() * 100, s: `s${i % 37}` });
  await table.ingest(batchOf(events));
  await store.close();
}

function flip(path: string, offset: number): void {
  const buf = readFileSync(path);
  buf[offset] ^= 0x5a;
  writeFileSync(path, buf);
}

describe('corruption', () => {
  it('names a segment whose data block has a flipped byte', async () => {
    const { dir, cleanup } = tempDir();
    try {
      await storeWithSegments(dir);
      const segDir = join(dir, 't', 'segments');
      const [seg] = readdirSync(segDir);
      flip(join(segDir, seg), 20); // inside the first block
      const store = await Store.open(dir);
      const table = store.get('t');
      let caught: unknown;
      try {
        dumpTable(table);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(CorruptDataError);
      expect((caught as Error).message).toContain(seg);
      await store.close(false);
    } finally {
      cleanup();
    }
  });

  it('reports a segment with a torn footer at open and quarantines it', async () => {
    const { dir, cleanup } = tempDir();
    try {
      await storeWithSegments(dir);
      const segDir = join(dir, 't', 'segments');
      const [seg] = readdirSync(segDir);
      truncateSync(join(segDir, seg), statSync(join(segDir, seg)).size - 5);
      const store = await Store.open(dir, { log: () => {} });
      const table = store.get('t');
      expect(table.damaged.map((d) => d.file)).toEqual([join(segDir, seg)]);
      // Quarantined, not dropped: reading it fails naming the file instead of answering without its rows.
      expect(() => dumpTable(table)).toThrow(CorruptDataError);
      expect(() => dumpTable(table)).toThrow(seg);
      await store.close(false);
    } finally {
      cleanup();
    }
  });

  it('refuses to open a table whose manifest is corrupt, naming it, while the store opens', async () => {
    const { dir, cleanup } = tempDir();
    try {
      await storeWithSegments(dir);
      const manifest = join(dir, 't', 'manifest.json');
      flip(manifest, 40);
      const messages: string[] = [];
      const store = await Store.open(dir, { log: (m) => messages.push(m) });
      expect(store.has('t')).toBe(false);
      expect(store.unopenable.get('t')).toContain('manifest.json');
      expect(messages.join('\n')).toContain('manifest.json');
      await store.close();
    } finally {
      cleanup();
    }
  });
});
