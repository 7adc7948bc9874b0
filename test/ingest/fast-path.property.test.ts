/**
 * The NDJSON fast path must give exactly the batch the JSON.parse path gives: same columns in
 * the same order, same values (including -0 and huge numbers), same rejects with the same
 * messages and raw text, and the same typed form. Inputs are random JSON texts (json-lines.ts).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BatchBuilder } from '../../ingest/batch-builder.js';
import type { BatchColumn, EventBatch } from '../../ingest/batch.js';
import { JsonRecordParser } from '../../ingest/json-record.js';
import { parseNdjson } from '../../ingest/parse-lines.js';
import { findItems, parseTask } from '../../ingest/parse-chunk.js';
import { DictStreams, SHORT_MAX } from '../../ingest/string-streams.js';
import { eventLine, layoutLine, plainLine, typicalLine } from './json-lines.js';

const OPTIONS = { actorColumn: 'user_id', timeColumn: 'time', maxLineBytes: 1 << 20 };

function parseLines(text: string, fast: boolean): { batch: EventBatch; hits: number } {
  const parser = new JsonRecordParser(OPTIONS);
  parser.useFastPath = fast;
  const b = new BatchBuilder(OPTIONS);
  parseNdjson(Buffer.from(text), 1, b, parser);
  return { batch: b.finish(), hits: parser.fastHits };
}

/** The kind of each typed column ('n?': numbers with nulls), which toEqual does not see. */
function typedKinds(batch: EventBatch): string[] {
  const kind = (c: BatchColumn): string => (c.t === 'n' && c.nulls !== null ? 'n?' : c.t);
  return [kind(batch.typed!.actors), ...batch.typed!.columns.map(([name, c]) => `${name}:${kind(c)}`)];
}

function expectSame(fast: EventBatch, slow: EventBatch): void {
  expect([...fast.columns.keys()]).toEqual([...slow.columns.keys()]);
  expect(fast).toEqual(slow); // toEqual compares numbers with Object.is, so -0 ≠ 0
  expect(typedKinds(fast)).toEqual(typedKinds(slow));
}

let fastLines = 0;
let allLines = 0;

describe('NDJSON fast path', () => {
  it('gives exactly the JSON.parse result on random lines', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(eventLine, plainLine, layoutLine, typicalLine), { minLength: 1, maxLength: 30 }), (lines) => {
        const text = lines.join('\n');
        const fast = parseLines(text, true);
        const slow = parseLines(text, false);
        expectSame(fast.batch, slow.batch);
        fastLines += fast.hits;
        allLines += lines.length;
      }),
      { numRuns: 400 },
    );
    // The comparison means something only if the fast path really handled many of the lines.
    expect(fastLines / allLines).toBeGreaterThan(0.3);
  });

  it('finds the same lines as the JSON.parse path: CRLF, blank lines, objects cut by a newline, a last line without one, over-long lines', () => {
    // The fast path finds each line's end as it scans (to the chunk's end, a newline being no
    // whitespace there); the JSON.parse path looks for the newline first.
    const sep = fc.constantFrom('\n', '\r\n', ' \n', '\t\r\n', '\n\n', '\n \n', '\r\r\n', ' ');
    // One line in five is cut in two by a newline somewhere inside.
    const cut = fc.oneof({ arbitrary: fc.constant(undefined), weight: 4 }, { arbitrary: fc.nat(), weight: 1 });
    const piece = fc.tuple(fc.oneof(eventLine, typicalLine, typicalLine), cut, sep);
    let hits = 0;
    let lines = 0;
    fc.assert(
      fc.property(fc.array(piece, { minLength: 1, maxLength: 25 }), fc.boolean(), (pieces, newlineAtEnd) => {
        // Some lines get a newline at some position inside, cutting the object in two lines.
        const text = pieces.map(([line, cut, s]) => (cut === undefined ? line : `${line.slice(0, cut % line.length)}\n${line.slice(cut % line.length)}`) + s).join('');
        const input = newlineAtEnd ? text : text.trimEnd();
        // A limit that some lines of the typical shape (80 to 108 bytes) exceed.
        const parse = (fast: boolean): EventBatch => {
          const parser = new JsonRecordParser({ ...OPTIONS, maxLineBytes: 100 });
          parser.useFastPath = fast;
          const b = new BatchBuilder(OPTIONS);
          parseNdjson(Buffer.from(input), 1, b, parser);
          hits += parser.fastHits;
          return b.finish();
        };
        const fast = parse(true);
        const slow = parse(false);
        expectSame(fast, slow);
        expect(fast.lineCount).toBe(input === '' ? 0 : input.split('\n').length - (input.endsWith('\n') ? 1 : 0));
        lines += fast.lineCount;
      }),
      { numRuns: 300 },
    );
    // Blank lines, halves of cut lines and over-long lines are most lines here: the fast path
    // must still have taken a good share of them.
    expect(hits / lines).toBeGreaterThan(0.1);
  });

  it('gives exactly the JSON.parse result on JSON array items (whitespace may hold newlines)', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(eventLine, plainLine, layoutLine, typicalLine), { maxLength: 20 }), fc.constantFrom(',', ',\n', ' ,\r\n  '), (items, sep) => {
        const bytes = Buffer.from(`[\n${items.join(sep)}\n]`);
        const ctx = { format: 'json' as const, options: OPTIONS, csv: null };
        const fast = parseTask(bytes, findItems(bytes, 'json'), { ...ctx, fastPath: true }, 1);
        const slow = parseTask(bytes, findItems(bytes, 'json'), { ...ctx, fastPath: false }, 1);
        expectSame(fast, slow);
      }),
      { numRuns: 200 },
    );
  });

  it('handles the typical event shape itself, not through the fallback', () => {
    const line = '{"user_id":"u1","time":"2026-10-01T00:00:00Z","event":"view","latency_ms":12.5,"ok":true,"x":null,"props":{"plan":"pro"}}';
    const { batch, hits } = parseLines(`${line}\n${line}\n`, true);
    expect(hits).toBe(2);
    expect(batch.count).toBe(2);
    expect(batch.columns.get('props.plan')).toEqual(['pro', 'pro']);
  });

  it('keeps exact numbers: -0, 1e21, 0.1, 2^53 + 1', () => {
    const { batch, hits } = parseLines('{"user_id":"u","time":1790000000,"a":-0,"b":1e21,"c":0.1,"d":9007199254740993,"e":-0.0,"f":123456.789}', true);
    expect(hits).toBe(1);
    const get = (k: string): unknown => batch.columns.get(k)![0];
    expect(Object.is(get('a'), -0)).toBe(true);
    expect(get('b')).toBe(1e21);
    expect(get('c')).toBe(0.1);
    expect(get('d')).toBe(9007199254740992);
    expect(Object.is(get('e'), -0)).toBe(true);
    expect(get('f')).toBe(123456.789);
  });

  it('codes a string value once, wherever it sits in the line (its hash and short key depend on its bytes alone)', () => {
    // ASCII values: the fast path declines nothing here (non-ASCII ones are decoded and looked up by string, whatever their hash)
    const value = fc.string({ maxLength: 40 }).filter((v) => !/["\\\u0000-\u001f]/.test(v));
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 8 }), fc.array(fc.nat({ max: 9 }), { minLength: 1, maxLength: 10 }), (values, pads) => {
        // each value after a key of another length, so it starts at every offset modulo 4, and
        // last in its line or not (the scanner reads the end of a string differently close to the
        // end of its input)
        const lines = pads.flatMap((p, i) =>
          values.map((v, j) => `{"user_id":"u${i}","time":1790000000,"${'p'.repeat(p)}":0,"k":${JSON.stringify(v)}${(i + j) % 2 === 0 ? '' : ',"z":1'}}`),
        );
        const streams = new DictStreams();
        const parser = new JsonRecordParser(OPTIONS);
        const b = new BatchBuilder(OPTIONS, streams);
        parseNdjson(Buffer.from(lines.join('\n')), 1, b, parser);
        expect(b.finish().count).toBe(lines.length);
        expect(parser.fastHits, 'every line through the fast path').toBe(lines.length);
        const stream = streams.stream('k');
        const dict = stream.strings;
        expect(dict.length).toBe(new Set(values).size);
        expect(new Set(dict)).toEqual(new Set(values));
        // The scanner's keys of short strings are those codeOfBytes makes from the bytes
        // (short-strings.ts): looked up that way, each finds its code and none is added.
        for (const v of values) {
          if (v.length > SHORT_MAX) continue;
          const bytes = Buffer.from(v, 'latin1');
          expect(dict[stream.codeOfBytes(bytes, 0, bytes.length, 0, true)]).toBe(v);
        }
        expect(dict.length).toBe(new Set(values).size);
      }),
      { numRuns: 200 },
    );
  });
});
