/**
 * Flattening: dotted names for nested objects, arrays as JSON text, and keys such as __proto__
 * or constructor staying ordinary columns without ever touching Object.prototype.
 */
import { pack } from 'msgpackr';
import { afterEach, describe, expect, it } from 'vitest';
import { flatten, parseBuffer } from '../../ingest/index.js';
import { col, only } from './helpers.js';

const T = '2026-10-01T00:00:00Z';

afterEach(() => {
  // Nothing may have leaked onto the shared prototype, whatever the test did.
  expect(Object.prototype).not.toHaveProperty('polluted');
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
});

describe('flatten', () => {
  it('joins nested keys with dots and stores arrays as JSON text', () => {
    const out = flatten({ a: 1, props: { plan: 'pro', deep: { x: null, y: [1, { z: 2 }] } }, empty: {}, list: [], s: 's' });
    expect([...out]).toEqual([
      ['a', 1],
      ['props.plan', 'pro'],
      ['props.deep.x', null],
      ['props.deep.y', '[1,{"z":2}]'],
      ['list', '[]'],
      ['s', 's'],
    ]);
  });

  it('flattens Maps (MessagePack) with non-string keys named by String()', () => {
    const out = flatten(new Map<unknown, unknown>([['m', new Map([[1, 'one']])], [2, true]]));
    expect([...out]).toEqual([['m.1', 'one'], ['2', true]]);
  });

  it('treats __proto__, constructor and hasOwnProperty as ordinary keys', () => {
    const parsed = JSON.parse('{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":1}},"hasOwnProperty":"h","toString":1}');
    const out = flatten(parsed);
    expect([...out]).toEqual([
      ['__proto__.polluted', true],
      ['constructor.prototype.polluted', 1],
      ['hasOwnProperty', 'h'],
      ['toString', 1],
    ]);
    expect(out.get('__proto__.polluted')).toBe(true);
  });

  it('keeps them as columns through every format', async () => {
    const event = '{"user_id":"u","time":"' + T + '","__proto__":{"polluted":"yes"},"constructor":"c","hasOwnProperty":"h","__defineGetter__":1}';
    const nd = only(await parseBuffer(Buffer.from(event + '\n'), { format: 'ndjson', workers: 0 }));
    const js = only(await parseBuffer(Buffer.from(`[${event}]`), { format: 'json', workers: 0 }));
    const mp = only(
      await parseBuffer(
        pack(new Map<string, unknown>([['user_id', 'u'], ['time', T], ['__proto__', new Map([['polluted', 'yes']])], ['constructor', 'c'], ['hasOwnProperty', 'h'], ['__defineGetter__', 1]])),
        { format: 'msgpack', workers: 0 },
      ),
    );
    for (const b of [nd, js, mp]) {
      expect([...b.columns]).toEqual([
        ['__proto__.polluted', ['yes']],
        ['constructor', ['c']],
        ['hasOwnProperty', ['h']],
        ['__defineGetter__', [1]],
      ]);
    }
    const csv = only(await parseBuffer(Buffer.from(`user_id,time,__proto__,constructor\nu,${T},x,y\n`), { format: 'csv', workers: 0 }));
    expect(col(csv, '__proto__')).toEqual(['x']);
    expect(col(csv, 'constructor')).toEqual(['y']);
  });

  it('accepts __proto__ and constructor as the actor and time column names', async () => {
    const b = only(await parseBuffer(Buffer.from(`{"__proto__":"actor","constructor":"${T}","n":1}\n`), { format: 'ndjson', actorColumn: '__proto__', timeColumn: 'constructor', workers: 0 }));
    expect(b.actors).toEqual(['actor']);
    expect([...b.timeMs]).toEqual([Date.parse(T)]);
    expect([...b.columns.keys()]).toEqual(['n']);
  });
});

describe('arrays holding numbers out of float64 range', () => {
  it('reject their event like a scalar 1e400, instead of storing the array with null in its place', async () => {
    const lines = ['{"user_id":"a","time":1790000000,"tags":[1,1e400]}', '{"user_id":"b","time":1790000000,"tags":[null,{"x":-1e999}]}', '{"user_id":"c","time":1790000000,"tags":[null,1]}'];
    const b = only(await parseBuffer(Buffer.from(lines.join('\n')), { format: 'ndjson', workers: 0 }));
    expect(b.actors).toEqual(['c']);
    expect(col(b, 'tags')).toEqual(['[null,1]']);
    expect(b.rejects.map((r) => [r.line, r.message])).toEqual([
      [1, 'number out of range in field "tags"'],
      [2, 'number out of range in field "tags"'],
    ]);
    const m = only(await parseBuffer(pack([{ user_id: 'a', time: T, tags: [1, Infinity] }, { user_id: 'b', time: T, tags: [NaN] }, { user_id: 'c', time: T, tags: [2] }]), { format: 'msgpack', workers: 0 }));
    expect(m.actors).toEqual(['c']);
    expect(m.rejects.map((r) => [r.line, r.message])).toEqual([
      [1, 'number out of range in field "tags"'],
      [2, 'number out of range in field "tags"'],
    ]);
  });
});
