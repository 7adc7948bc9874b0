/**
 * Actor dictionaries: ids are dense and assigned in first-seen order by actor key (a number
 * and its text are one actor, as are 0 and -0), checked against a Map of keys on random
 * sequences long enough to grow the index; they survive persist and load, open without
 * decoding a value, and a file that holds fewer actors than the manifest says is named.
 */
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ActorDict, readActorValues, type ActorValue } from '../../engine/storage/actor-dict.js';
import { StoredActors } from '../../engine/storage/actor-bytes.js';
import { actorKey, hashKey } from '../../engine/storage/hash.js';
import { tempDir } from './helpers.js';

const actor = fc.oneof(
  fc.integer({ min: 0, max: 3000 }).map((i) => `u${i}`),
  fc.integer({ min: -50, max: 50 }),
  fc.integer({ min: -50, max: 50 }).map(String),
  fc.constantFrom(0, -0, NaN, 'NaN', '', '__proto__', 1.5, '1.5', 'é', '\ud800'),
  fc.string(),
);

/** The obvious reference: ids by key in a Map. */
function referenceIds(values: ActorValue[]): { ids: number[]; firsts: ActorValue[] } {
  const byKey = new Map<string, number>();
  const firsts: ActorValue[] = [];
  const ids = values.map((v) => {
    const key = actorKey(v);
    let id = byKey.get(key);
    if (id === undefined) {
      byKey.set(key, (id = firsts.length));
      firsts.push(v);
    }
    return id;
  });
  return { ids, firsts };
}

describe('actor dictionary', () => {
  it('assigns the ids a Map of actor keys would, and keeps them through persist and load', async () => {
    const { dir, cleanup } = tempDir('shoal-actordict-');
    try {
      let file = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(actor, { maxLength: 4000 }), fc.integer({ min: 0, max: 4000 }), async (values, cut) => {
          const { ids, firsts } = referenceIds(values);
          const dict = ActorDict.empty();
          expect(values.map((v) => dict.idOf(v))).toEqual(ids);
          expect(dict.values).toEqual(firsts);
          // Persisted in two flushes, then loaded: lazily, and the same ids again.
          const path = join(dir, `a${file++}.actors`);
          const fresh = ActorDict.load(path, 0);
          const split = Math.min(cut, values.length);
          fresh.idsFor(values.slice(0, split));
          fresh.committed(fresh.size, await fresh.persist(path, fresh.size));
          fresh.idsFor(values.slice(split));
          fresh.committed(fresh.size, await fresh.persist(path, fresh.size));
          const back = ActorDict.load(path, firsts.length);
          expect(back.size).toBe(firsts.length);
          expect(back.isLoaded).toBe(firsts.length === 0);
          // msgpack writes -0 as 0: the same actor (one key), shown as 0 after a reopen.
          expect(readActorValues(path, firsts.length)).toEqual(firsts.map((v) => (Object.is(v, -0) ? 0 : v)));
          // Looked up in the file's bytes: no value is decoded into the dictionary.
          expect(values.map((v) => back.idOf(v))).toEqual(ids);
          expect(back.isLoaded).toBe(firsts.length === 0);
          expect(back.idOf('never seen before \u0000')).toBe(firsts.length);
          expect(back.idOf(values.length > 0 ? values[0] : 'never seen before \u0000')).toBe(values.length > 0 ? 0 : firsts.length);
          // Actors added over the bytes persist after the file's, and the values come back in id order.
          back.committed(back.size, await back.persist(path, back.size));
          const again = ActorDict.load(path, firsts.length + 1);
          expect(again.idOf('never seen before \u0000')).toBe(firsts.length);
          expect(back.values).toEqual([...firsts.map((v) => (Object.is(v, -0) ? 0 : v)), 'never seen before \u0000']);
          expect(back.isLoaded).toBe(true);
          expect(values.map((v) => back.idOf(v))).toEqual(ids);
          // Values loaded before the first lookup: the index is built over them instead.
          const viaValues = ActorDict.load(path, firsts.length);
          expect(viaValues.values.length).toBe(firsts.length);
          expect(values.map((v) => viaValues.idOf(v))).toEqual(ids);
        }),
        { numRuns: 60 },
      );
    } finally {
      cleanup();
    }
  });

  it('reads stored actors from msgpack bytes, and declines kinds it does not read', () => {
    const packr = new Packr({ useRecords: false });
    const stored = StoredActors.of([packr.pack(['u1', 7, 'é']), packr.pack([-1.5, 'x'.repeat(300)])], 5);
    expect(stored).not.toBeNull();
    expect([0, 1, 2, 3, 4].map((id) => stored!.decoded(id))).toEqual(['u1', 7, 'é', -1.5, 'x'.repeat(300)]);
    // Records in buffers of their own (a WAL read gives views of one) read the same.
    const apart = StoredActors.of([new Uint8Array(packr.pack(['u1', 7, 'é'])), new Uint8Array(packr.pack([-1.5, 'x'.repeat(300)]))], 5);
    expect([0, 1, 2, 3, 4].map((id) => apart!.decoded(id))).toEqual(['u1', 7, 'é', -1.5, 'x'.repeat(300)]);
    expect(stored!.asciiEquals(0, 'u1')).toBe(true);
    expect(stored!.asciiEquals(0, 'u2')).toBe(false);
    expect(stored!.asciiEquals(1, '7')).toBeNull(); // a number: compared decoded
    expect(stored!.asciiEquals(2, 'é')).toBeNull(); // not ASCII: compared decoded
    // Indexed by the hashes of their keys: each id is found by its key's hash, and no other.
    const keys = ['u1', '7', 'é', '-1.5', 'x'.repeat(300)];
    stored!.index((id) => String(stored!.decoded(id)));
    keys.forEach((k, id) => expect(stored!.find(hashKey(k), (at) => at === id)).toBe(id));
    expect(stored!.find(hashKey('u1'), () => true)).toBe(0);
    expect(stored!.find(hashKey('u3'), () => true)).toBe(-1);
    // An extension type, an array inside, and records that end short of the count: null.
    expect(StoredActors.of([packr.pack([new Date(0)])], 1)).toBeNull();
    expect(StoredActors.of([packr.pack([['a']])], 1)).toBeNull();
    expect(StoredActors.of([packr.pack(['a', 'b'])], 3)).toBeNull();
    expect(StoredActors.of([packr.pack(['a', 'b']).subarray(0, 3)], 2)).toBeNull();
  });

  it('cuts off an uncommitted record and names a file that holds too few actors', async () => {
    const { dir, cleanup } = tempDir('shoal-actordict-');
    try {
      const path = join(dir, 'shard-00.actors');
      const dict = ActorDict.load(path, 0);
      dict.idsFor(['a', 'b', 'c']);
      dict.committed(3, await dict.persist(path, 3));
      dict.idsFor(['d']);
      await dict.persist(path, 4); // a flush whose manifest never committed
      const back = ActorDict.load(path, 3);
      expect(back.values).toEqual(['a', 'b', 'c']);
      expect(back.idOf('d')).toBe(3);
      expect(() => ActorDict.load(path, 5)).toThrow(/shard-00\.actors.*holds 3 actors where the manifest expects 5/);
      appendFileSync(path, Buffer.from([1, 2, 3]));
      expect(ActorDict.load(path, 3).values).toEqual(['a', 'b', 'c']);
      expect(() => ActorDict.load(join(dir, 'gone.actors'), 1)).toThrow(/gone\.actors.*missing/);
    } finally {
      cleanup();
    }
  });
});
