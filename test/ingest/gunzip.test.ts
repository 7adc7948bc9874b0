/**
 * gunzipMembers: gzip member by member, as `gzip -d` reads it. Every header field RFC 1952
 * allows, members and padding split anywhere across the input's pieces, and for damage after
 * the data (trailing garbage, a bad CRC or length, a cut) every byte decoded before it, then
 * one BAD_REQUEST saying what is wrong. Node's own Gunzip dropped up to a megabyte of good
 * output before such an error.
 */
import fc from 'fast-check';
import { crc32, deflateRawSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { gunzipMembers } from '../../ingest/gunzip.js';

interface HeaderFields {
  name?: string;
  comment?: string;
  extra?: Buffer;
  headerCrc?: boolean;
}

/** One gzip member of `data`, with the optional header fields given. */
function member(data: Buffer, h: HeaderFields = {}): Buffer {
  const flags = (h.headerCrc ? 2 : 0) | (h.extra ? 4 : 0) | (h.name !== undefined ? 8 : 0) | (h.comment !== undefined ? 16 : 0);
  const parts: Buffer[] = [Buffer.from([0x1f, 0x8b, 8, flags, 0, 0, 0, 0, 0, 3])];
  if (h.extra) parts.push(Buffer.from([h.extra.length & 0xff, h.extra.length >> 8]), h.extra);
  if (h.name !== undefined) parts.push(Buffer.from(`${h.name}\0`, 'latin1'));
  if (h.comment !== undefined) parts.push(Buffer.from(`${h.comment}\0`, 'latin1'));
  if (h.headerCrc) parts.push(Buffer.from([crc32(Buffer.concat(parts)) & 0xff, (crc32(Buffer.concat(parts)) >> 8) & 0xff]));
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(data), 0);
  trailer.writeUInt32LE(data.length % 2 ** 32, 4);
  return Buffer.concat([...parts, deflateRawSync(data), trailer]);
}

/** `bytes` cut at the given offsets (taken modulo its length), as a source of pieces. */
function pieces(bytes: Buffer, cuts: number[] = []): AsyncIterator<Buffer> & { closed: boolean } {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const list: Buffer[] = [];
  let from = 0;
  for (const c of [...at, bytes.length]) {
    if (c > from) list.push(bytes.subarray(from, c));
    from = Math.max(from, c);
  }
  let k = 0;
  const it = {
    closed: false,
    next: async (): Promise<IteratorResult<Buffer>> => (k < list.length ? { done: false, value: list[k++] } : { done: true, value: undefined }),
    return: async (): Promise<IteratorResult<Buffer>> => {
      it.closed = true;
      return { done: true, value: undefined };
    },
  };
  return it;
}

/** Everything gunzipMembers yields, and the error it ends with (if any). */
async function gunzip(bytes: Buffer, cuts: number[] = []): Promise<{ out: Buffer; error: unknown }> {
  const got: Buffer[] = [];
  let error: unknown;
  try {
    for await (const b of gunzipMembers(pieces(bytes, cuts), 'f.gz')) got.push(b);
  } catch (err) {
    error = err;
  }
  return { out: Buffer.concat(got), error };
}

const text = (n: number, seed = 1): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => `{"user_id":"u${(i * seed) % 977}","i":${i}}\n`).join(''));

describe('gunzipMembers', () => {
  it('reads members with every header field, split anywhere, with zero padding between and after them', async () => {
    const headers: HeaderFields[] = [{}, { name: 'events.ndjson' }, { comment: 'a comment' }, { extra: Buffer.from('AB\x04\x00data') }, { name: 'n', comment: 'c', extra: Buffer.from('xy'), headerCrc: true }];
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ lines: fc.integer({ min: 0, max: 300 }), header: fc.integer({ min: 0, max: headers.length - 1 }), pad: fc.integer({ min: 0, max: 3 }) }), { minLength: 1, maxLength: 4 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        async (members, cuts) => {
          const datas = members.map((m, k) => text(m.lines, k + 2));
          const bytes = Buffer.concat(members.flatMap((m, k) => [member(datas[k], headers[m.header]), Buffer.alloc(m.pad)]));
          const { out, error } = await gunzip(bytes, cuts);
          expect(error).toBeUndefined();
          expect(out.equals(Buffer.concat(datas))).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('reads what gzip writes, one byte at a time', async () => {
    const data = text(2000);
    const bytes = Buffer.concat([gzipSync(data), gzipSync(data.subarray(0, 100))]);
    const { out, error } = await gunzip(bytes, Array.from({ length: bytes.length }, (_, i) => i));
    expect(error).toBeUndefined();
    expect(out.equals(Buffer.concat([data, data.subarray(0, 100)]))).toBe(true);
  });

  it('after trailing garbage: every member decoded, then an error saying the rest is not gzip', async () => {
    // 8 MiB of output: far more than one input piece's worth (Node's Gunzip lost the last ~1 MiB).
    const data = text(300_000);
    for (const garbage of ['garbage after the data', '\x1f\x8bXXXXXXXXXXXX', '\x1f', '\0\0\0junk']) {
      for (const cuts of [[], [1 << 20, 2 << 20]]) {
        const { out, error } = await gunzip(Buffer.concat([gzipSync(data), Buffer.from(garbage, 'latin1')]), cuts);
        expect(out.equals(data), JSON.stringify(garbage)).toBe(true);
        expect(error).toMatchObject({ code: 'BAD_REQUEST' });
        expect((error as Error).message).toMatch(new RegExp(`^bad request: f\\.gz: invalid gzip data after ${data.length} decompressed bytes: `));
        expect((error as Error).message).toMatch(garbage.startsWith('\x1f\x8b') ? /unknown compression method 88/ : /the bytes after gzip member 1 are not gzip data|unexpected end of file in a gzip header/);
      }
    }
  });

  it('a damaged trailer or cut data: the bytes decoded, then an error naming the damage', async () => {
    const data = text(20_000);
    const good = member(data);
    const badCrc = Buffer.from(good);
    badCrc[badCrc.length - 8] ^= 1;
    const badLength = Buffer.from(good);
    badLength[badLength.length - 1] ^= 1;
    const cases: [Buffer, RegExp][] = [
      [badCrc, /CRC-32 mismatch in gzip member 1/],
      [badLength, /length mismatch in gzip member 1/],
      [good.subarray(0, good.length - 3), /unexpected end of file$/],
      [Buffer.concat([good, good.subarray(0, 5)]), /unexpected end of file in a gzip header/],
    ];
    for (const [bytes, why] of cases) {
      const { out, error } = await gunzip(bytes);
      expect(out.equals(data.subarray(0, out.length))).toBe(true);
      expect(error).toMatchObject({ code: 'BAD_REQUEST' });
      expect((error as Error).message).toMatch(why);
    }
    // Cut inside the deflate data: a prefix of the data, and zlib's words for it.
    const { out, error } = await gunzip(good.subarray(0, good.length >> 1));
    expect(out.length).toBeGreaterThan(0);
    expect(out.equals(data.subarray(0, out.length))).toBe(true);
    expect((error as Error).message).toMatch(/invalid gzip data after \d+ decompressed bytes: unexpected end of file$/);
  });

  it('many small members (inflated at once after the first): the same bytes, and damage in a later one found', async () => {
    const datas = Array.from({ length: 60 }, (_, k) => text(100 + k, k + 3));
    const members = datas.map((d) => member(d));
    for (const cuts of [[], [members[0].length + 7, 100_000]]) {
      const { out, error } = await gunzip(Buffer.concat(members), cuts);
      expect(error).toBeUndefined();
      expect(out.equals(Buffer.concat(datas))).toBe(true);
    }
    // Member 30's CRC: its data is passed on (as a stream would), then the mismatch is named.
    const badCrc = members.map((m, k) => (k === 29 ? Buffer.concat([m.subarray(0, m.length - 8), Buffer.from([0, 0, 0, 0]), m.subarray(m.length - 4)]) : m));
    let got = await gunzip(Buffer.concat(badCrc));
    expect(got.out.equals(Buffer.concat(datas.slice(0, 30)))).toBe(true);
    expect((got.error as Error).message).toMatch(/CRC-32 mismatch in gzip member 30/);
    // Member 40 cut short inside its deflate data, member 41 right after: every member before it whole, then an error.
    const cut = members.map((m, k) => (k === 39 ? m.subarray(0, m.length >> 1) : m));
    got = await gunzip(Buffer.concat(cut));
    expect(got.out.subarray(0, Buffer.concat(datas.slice(0, 39)).length).equals(Buffer.concat(datas.slice(0, 39)))).toBe(true);
    expect(got.error).toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('closes its source when the reader stops early, and when it fails', async () => {
    const bytes = gzipSync(text(100_000));
    const source = pieces(bytes, [1000, 5000]);
    for await (const b of gunzipMembers(source, null)) {
      expect(b.length).toBeGreaterThan(0);
      break;
    }
    expect(source.closed).toBe(true);
    const damaged = pieces(Buffer.concat([bytes, Buffer.from('junk')]));
    await expect(
      (async () => {
        for await (const b of gunzipMembers(damaged, null)) void b;
      })(),
    ).rejects.toThrow(/^bad request: invalid gzip data after/);
    expect(damaged.closed).toBe(true);
  });
});
