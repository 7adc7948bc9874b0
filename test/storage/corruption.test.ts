/** A flipped byte or a truncation in a segment or the manifest is detected and named. */
import { readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { CorruptDataError, Store } from '../../engine/index.js';
import { SEGMENT_TRAILER_BYTES, type SegmentFooter } from '../../engine/storage/segment-format.js';
import { SegmentReader } from '../../engine/storage/segment-reader.js';
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

/** What `f` throws (undefined when it returns). */
function thrownBy(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  return undefined;
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
      const caught = thrownBy(() => dumpTable(table));
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
      // The report's reason says what is wrong; the file is its own field.
      expect(table.damaged[0].reason).toMatch(/^torn trailer; quarantined/);
      // Quarantined, not dropped: reading it fails naming the file (once) instead of answering without its rows.
      const caught = thrownBy(() => dumpTable(table));
      expect(caught).toBeInstanceOf(CorruptDataError);
      expect((caught as Error).message).toBe(`corrupt or torn file ${join(segDir, seg)}: torn trailer; the segment is quarantined`);
      await store.close(false);
    } finally {
      cleanup();
    }
  });

  it('names a segment whose footer has a valid checksum but lacks a part the reader needs', async () => {
    const { dir, cleanup } = tempDir();
    try {
      await storeWithSegments(dir);
      const segDir = join(dir, 't', 'segments');
      const [seg] = readdirSync(segDir);
      const path = join(segDir, seg);
      const packr = new Packr({ useRecords: false });
      // Rewrites the footer with `edit` applied, trailer and checksum to match.
      const rewrite = (edit: (f: SegmentFooter) => void): void => {
        const buf = readFileSync(path);
        const footerLen = buf.readUInt32LE(buf.length - SEGMENT_TRAILER_BYTES);
        const footerStart = buf.length - SEGMENT_TRAILER_BYTES - footerLen;
        const footer = packr.unpack(buf.subarray(footerStart, footerStart + footerLen)) as SegmentFooter;
        edit(footer);
        const bytes = packr.pack(footer);
        const trailer = Buffer.from(buf.subarray(buf.length - SEGMENT_TRAILER_BYTES));
        trailer.writeUInt32LE(bytes.length, 0);
        trailer.writeUInt32LE(crc32(bytes), 4);
        writeFileSync(path, Buffer.concat([buf.subarray(0, footerStart), bytes, trailer]));
      };
      const original = readFileSync(path);
      rewrite(() => {});
      expect(SegmentReader.open(path).footer.rowCount).toBe(5000); // the rewrite alone keeps it readable
      const cases: [string, (f: SegmentFooter) => void][] = [
        ['time blocks missing', (f) => delete (f as Partial<SegmentFooter>).time],
        ['actor blocks missing', (f) => (f.actor = f.actor.slice(1))],
        ['blocks of column s missing', (f) => delete (f.columns.find((c) => c.name === 's') as Partial<SegmentFooter['columns'][0]>).blocks],
        ['dictionary of column s missing', (f) => delete f.columns.find((c) => c.name === 's')!.dict],
        ['rowGroups missing', (f) => ((f as unknown as { rowGroups: unknown }).rowGroups = 'x')],
        ['unknown footer version 2', (f) => ((f as unknown as { version: number }).version = 2)],
      ];
      for (const [problem, edit] of cases) {
        writeFileSync(path, original);
        rewrite(edit);
        const caught = thrownBy(() => SegmentReader.open(path));
        expect(caught, problem).toBeInstanceOf(CorruptDataError);
        expect((caught as Error).message).toContain(seg);
        expect((caught as Error).message).toContain(`malformed footer: ${problem}`);
      }
      // The store quarantines such a segment at open, as it does a torn one.
      const store = await Store.open(dir, { log: () => {} });
      const table = store.get('t');
      expect(table.damaged.map((d) => d.file)).toEqual([path]);
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
