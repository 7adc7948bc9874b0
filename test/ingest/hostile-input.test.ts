/**
 * Hostile input to the parsers: a bad record rejects that record only, never the chunk around
 * it (PRODUCT.md, "Ingest"), and a byte order mark is skipped however the input is cut.
 */
import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import type { EventBatch } from '../../ingest/batch.js';
import { parseChunk } from '../../ingest/parse-chunk.js';
import { flat, readAll } from './helpers.js';

const line = (u: string): string => JSON.stringify({ user_id: u, time: 1790000000 });

describe('hostile input', () => {
  it('skips a UTF-8 BOM even when the stream delivers it across its first pieces', async () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${line('a')}\n${line('b')}\n`)]);
    // Pieces of 1 or 2 bytes: an HTTP body or a pipe may hand the first bytes over in any split.
    for (const pieces of [[1], [2]]) {
      const got = flat(await readAll(body, { format: 'ndjson', workers: 0 }, pieces));
      expect(got.rejects, `pieces of ${pieces[0]}`).toEqual([]);
      expect(got.rows.map((r) => r.actor)).toEqual(['a', 'b']);
    }
  });

  it('rejects only the line whose time is a deeply nested array (NDJSON), instead of failing the chunk', async () => {
    const bad = `{"user_id":"u","time":${'['.repeat(5000)}${']'.repeat(5000)}}`; // ~10 KB, well under the line limit
    const body = Buffer.from(`${line('a')}\n${bad}\n${line('b')}\n`);
    let batch: EventBatch | undefined;
    expect(() => (batch = parseChunk(body, 'ndjson'))).not.toThrow();
    expect(batch!.actors).toEqual(['a', 'b']);
    expect(batch!.rejects.map((r) => r.line)).toEqual([2]);
    const got = flat(await readAll(body, { format: 'ndjson', workers: 0 }));
    expect(got.rows.map((r) => r.actor)).toEqual(['a', 'b']);
    expect(got.rejects.map((r) => r.line)).toEqual([2]);
  });

  it('rejects only the MessagePack item that is a deeply nested array, instead of failing the chunk', () => {
    const good = pack({ user_id: 'a', time: 1790000000 });
    // fixarray(2) [ good, [[[…1…]]] ] : the second item is an array 3000 levels deep (~3 KB)
    const body = Buffer.concat([Buffer.from([0x92]), good, Buffer.alloc(3000, 0x91), Buffer.from([0x01])]);
    let batch: EventBatch | undefined;
    expect(() => (batch = parseChunk(body, 'msgpack'))).not.toThrow();
    expect(batch!.actors).toEqual(['a']);
    expect(batch!.rejects.map((r) => [r.line, r.message])).toEqual([[2, 'expected a map, got an array']]);
  });

  it('rejects only the MessagePack item whose time is a deeply nested array, instead of failing the chunk', () => {
    const good = pack({ user_id: 'a', time: 1790000000 });
    // fixmap(2) { user_id: "u", time: [[[…]]] } with the array 3000 levels deep (~3 KB)
    const head = Buffer.concat([Buffer.from([0x82, 0xa7]), Buffer.from('user_id'), Buffer.from([0xa1, 0x75, 0xa4]), Buffer.from('time')]);
    const deep = Buffer.concat([Buffer.alloc(3000, 0x91), Buffer.from([0x90])]);
    const body = Buffer.concat([Buffer.from([0x92]), good, head, deep]);
    let batch: EventBatch | undefined;
    expect(() => (batch = parseChunk(body, 'msgpack'))).not.toThrow();
    expect(batch!.actors).toEqual(['a']);
    expect(batch!.rejects.map((r) => r.line)).toEqual([2]);
  });
});
