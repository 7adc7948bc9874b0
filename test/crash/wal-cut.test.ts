/**
 * The WAL tail cut at every byte offset around a record recovers to the last whole record,
 * and a batch missing any of its shard parts is wholly absent.
 */
import { cpSync, readdirSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Store } from '../../engine/index.js';
import { readWal, frameRecord, WalWriter } from '../../engine/storage/wal.js';
import { batchOf, dumpTable, tempDir } from '../storage/helpers.js';

const T0 = Date.UTC(2026, 5, 1);

describe('WAL recovery', () => {
  it('readWal returns exactly the whole records before any cut', () => {
    const { dir, cleanup } = tempDir();
    try {
      const path = join(dir, 'x.wal');
      const w = WalWriter.open(path);
      const payloads = [Buffer.from('first record'), Buffer.alloc(300, 7), Buffer.from('third')];
      const ends: number[] = [];
      for (const p of payloads) {
        w.append(frameRecord(p));
        ends.push(w.bytes);
      }
      w.close();
      const full = statSync(path).size;
      for (let cut = 0; cut <= full; cut++) {
        const copy = join(dir, `cut-${cut}.wal`);
        cpSync(path, copy);
        truncateSync(copy, cut);
        const { records, validBytes } = readWal(copy);
        const whole = ends.filter((e) => e <= cut).length;
        expect(records.length, `cut at ${cut}`).toBe(whole);
        records.forEach((r, i) => expect(Buffer.compare(Buffer.from(r), payloads[i])).toBe(0));
        expect(validBytes).toBe(whole === 0 ? (cut >= 12 ? 12 : 0) : ends[whole - 1]);
      }
    } finally {
      cleanup();
    }
  });

  it('recovers a table to the last whole batch when its WAL is cut at every offset of the last record', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const src = join(dir, 'src');
      const store = await Store.open(src);
      const table = await store.getOrCreate('t');
      await table.ingest(batchOf([{ user: 'solo', timeMs: T0, n: 1 }, { user: 'solo', timeMs: T0 + 1, n: 2 }]));
      const walDir = join(src, 't', 'wal');
      const file = readdirSync(walDir).find((f) => statSync(join(walDir, f)).size > 12)!;
      const before = statSync(join(walDir, file)).size;
      await table.ingest(batchOf([{ user: 'solo', timeMs: T0 + 2, n: 3 }]));
      const after = statSync(join(walDir, file)).size;
      await store.close(false);
      for (let cut = before - 3; cut <= after; cut++) {
        const copy = join(dir, `c${cut}`);
        cpSync(src, copy, { recursive: true });
        truncateSync(join(copy, 't', 'wal', file), cut);
        const s = await Store.open(copy);
        const rows = dumpTable(s.get('t')).map((r) => r.values.n);
        const expected = cut < before ? [] : cut < after ? [1, 2] : [1, 2, 3];
        expect(rows.sort(), `cut at ${cut}`).toEqual(expected);
        expect(s.get('t').damaged).toEqual([]);
        await s.close();
      }
    } finally {
      cleanup();
    }
  });

  it('drops a multi-shard batch whose part in one shard was torn off', async () => {
    const { dir, cleanup } = tempDir();
    try {
      const store = await Store.open(dir);
      const table = await store.getOrCreate('t');
      const users = Array.from({ length: 64 }, (_, i) => ({ user: `user-${i}`, timeMs: T0 + i, k: i }));
      await table.ingest(batchOf(users));
      await store.close(false);
      const walDir = join(dir, 't', 'wal');
      const files = readdirSync(walDir).filter((f) => statSync(join(walDir, f)).size > 12);
      expect(files.length).toBeGreaterThan(1);
      truncateSync(join(walDir, files[0]), statSync(join(walDir, files[0])).size - 1);
      const s = await Store.open(dir);
      expect(dumpTable(s.get('t'))).toEqual([]);
      await s.close();
    } finally {
      cleanup();
    }
  });
});
