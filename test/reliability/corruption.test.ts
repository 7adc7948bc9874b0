/**
 * Corruption through the whole server: flipped bytes and truncation in segments, the manifest
 * and the WAL. The server starts, names the damaged file in its log, in /metrics and in
 * GET /v1/tables/:table, keeps answering from what is intact, and a query that needs a damaged
 * part fails with CORRUPT_DATA naming the file — never a silently smaller answer.
 */
import { existsSync, readdirSync, readFileSync, statSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { tempDir } from '../storage/helpers.js';
import { countIn, DAY1, DAY2, DAY_MS, flipByte, get, ingest, openServer, query, type OpenServer } from './helpers.js';

const PER_DAY = 3000;

/** Events of one day: 40 users, a string and a number column; day 2 alone has `promo`. */
function dayEvents(startMs: number, day: number): object[] {
  return Array.from({ length: PER_DAY }, (_, i) => ({
    user_id: `u${i % 40}`,
    time: new Date(startMs + i * 20_000).toISOString(),
    kind: `k${i % 7}`,
    latency_ms: (i * 37) % 1000,
    day,
    ...(day === 2 ? { promo: `p${i % 3}` } : {}),
  }));
}

let dir: string;
let cleanup: () => void;
let server: OpenServer | null = null;

beforeEach(async () => {
  ({ dir, cleanup } = tempDir('shoal-corrupt-'));
  const s = await openServer(dir);
  for (const [start, day] of [[DAY1, 1], [DAY2, 2]] as const) {
    const r = await ingest(s, 'events', dayEvents(start, day));
    expect(r.status).toBe(200);
  }
  expect((await ingest(s, 'other', dayEvents(DAY1, 1))).status).toBe(200);
  await s.close(true); // flush: every event now lives in segments
});

afterEach(async () => {
  await server?.close(false);
  server = null;
  cleanup();
});

const segmentsDir = (table: string): string => join(dir, table, 'segments');
/** Segment files of `table` whose partition is the day starting at `dayMs`. */
function segmentsOfDay(table: string, dayMs: number): string[] {
  const partition = Math.floor(dayMs / DAY_MS);
  return readdirSync(segmentsDir(table)).filter((f) => f.endsWith(`-p${partition}.seg`));
}

async function metricsText(s: OpenServer): Promise<string> {
  return (await get(s, '/metrics')).text;
}

describe('a damaged segment', () => {
  it('with a torn footer is quarantined: named everywhere, intact days answer, its day errors', async () => {
    const [seg] = segmentsOfDay('events', DAY1);
    const path = join(segmentsDir('events'), seg);
    truncateSync(path, statSync(path).size - 7);
    server = await openServer(dir);

    expect(server.logs.join('\n')).toContain(seg);
    const stats = await get(server, '/v1/tables/events');
    expect(stats.status).toBe(200);
    expect(stats.body.damaged.map((d: { file: string }) => d.file)).toEqual([path]);
    expect(await metricsText(server)).toContain(`shoal_damaged_file{table="events",file="${path}"} 1`);

    // The intact day and the intact table answer exactly.
    expect((await countIn(server, 'events', DAY2, DAY2 + DAY_MS)).count).toBe(PER_DAY);
    expect((await countIn(server, 'other')).count).toBe(PER_DAY);
    // Anything that needs the damaged day fails and says which file, whatever the filter.
    // A count over whole segments comes from the (checksummed) manifest row counts: still exact.
    expect((await countIn(server, 'events')).count).toBe(2 * PER_DAY);
    for (const q of [
      { table: 'events', measures: ['count'], from: DAY1 + 3_600_000, to: DAY1 + 2 * 3_600_000 },
      { table: 'events', measures: ['count'], groupBy: ['kind'] },
      { table: 'events', measures: ['uniq($actor)'] },
      { table: 'events', measures: ['sum(latency_ms)'], where: ['kind', '=', 'k3'] },
      { table: 'events', kind: 'samples', limit: 10000 },
    ]) {
      const r = await query(server, q);
      expect(r.status, JSON.stringify(q)).toBe(500);
      expect(r.body.error.code).toBe('CORRUPT_DATA');
      expect(r.body.error.message).toContain(seg);
    }
    // A filter on a column the damaged segment never had (the manifest says so) may skip it.
    const noSuch = await query(server, { table: 'events', measures: ['count'], where: ['promo', 'exists'] });
    expect(noSuch.status).toBe(200);
    expect(noSuch.body.rows[0][0]).toBe(PER_DAY);
  });

  it('that is missing is quarantined the same way', async () => {
    const [seg] = segmentsOfDay('events', DAY2);
    unlinkSync(join(segmentsDir('events'), seg));
    server = await openServer(dir);
    expect(server.logs.join('\n')).toContain(seg);
    expect((await countIn(server, 'events', DAY1, DAY1 + DAY_MS)).count).toBe(PER_DAY);
    const r = await query(server, { table: 'events', measures: ['avg(latency_ms)'], from: DAY2, to: DAY2 + DAY_MS });
    expect(r.body.error.code).toBe('CORRUPT_DATA');
    expect(r.body.error.message).toContain(seg);
  });

  it('with a flipped data byte fails the query that reads it and is reported from then on', async () => {
    const [seg] = segmentsOfDay('events', DAY1);
    const path = join(segmentsDir('events'), seg);
    flipByte(path, 8 + 3); // inside the first block after the magic
    server = await openServer(dir);
    // The footer is intact, so opening finds nothing wrong yet.
    expect((await get(server, '/v1/tables/events')).body.damaged).toEqual([]);
    const r = await query(server, { table: 'events', kind: 'samples', limit: 10000 });
    expect(r.status).toBe(500);
    expect(r.body.error.code).toBe('CORRUPT_DATA');
    expect(r.body.error.message).toContain(seg);

    const damaged = (await get(server, '/v1/tables/events')).body.damaged;
    expect(damaged.map((d: { file: string }) => d.file)).toEqual([path]);
    expect(server.logs.join('\n')).toContain(seg);
    expect(await metricsText(server)).toContain(`file="${path}"`);
    expect((await countIn(server, 'events', DAY2, DAY2 + DAY_MS)).count).toBe(PER_DAY);
    // Ingest and flush keep working beside the damaged segment (compaction leaves it alone).
    expect((await ingest(server, 'events', dayEvents(DAY1, 1))).status).toBe(200);
    await server.store.get('events').flush();
    await server.store.get('events').compact();
    expect(existsSync(path)).toBe(true);
  });
});

describe('a damaged manifest', () => {
  for (const [what, damage] of [
    ['a flipped byte', (p: string) => flipByte(p, 30)],
    ['truncation', (p: string) => truncateSync(p, Math.floor(statSync(p).size / 2))],
  ] as const) {
    it(`(${what}) keeps its table out of service, named, while the rest serves`, async () => {
      const manifest = join(dir, 'events', 'manifest.json');
      damage(manifest);
      server = await openServer(dir);

      expect(server.logs.join('\n')).toContain(manifest);
      const list = await get(server, '/v1/tables');
      expect(list.body.tables.map((t: { name: string }) => t.name)).toEqual(['other']);
      expect(list.body.unopenable.events).toContain(manifest);
      const one = await get(server, '/v1/tables/events');
      expect(one.status).toBe(503);
      expect(one.body.error.code).toBe('TABLE_UNAVAILABLE');
      expect(one.body.error.message).toContain(manifest);
      expect(await metricsText(server)).toContain(`shoal_damaged_file{table="events",file="${manifest}"} 1`);

      // Neither a query nor an ingest may treat it as a new, empty table.
      expect((await countIn(server, 'events')).body.error.code).toBe('TABLE_UNAVAILABLE');
      const segsBefore = readdirSync(segmentsDir('events')).sort();
      const ing = await ingest(server, 'events', dayEvents(DAY1, 1));
      expect(ing.status).toBe(503);
      expect(ing.body.error.code).toBe('TABLE_UNAVAILABLE');
      expect(readdirSync(segmentsDir('events')).sort()).toEqual(segsBefore);
      expect((await countIn(server, 'other')).count).toBe(PER_DAY);

      // An admin can drop it (no keys configured here: every route is open on loopback).
      const drop = await server.app.inject({ method: 'DELETE', url: '/v1/tables/events' });
      expect(drop.statusCode).toBe(200);
      expect(existsSync(join(dir, 'events'))).toBe(false);
      expect((await ingest(server, 'events', dayEvents(DAY1, 1))).status).toBe(200);
    });
  }

  it('that is missing while segments exist is refused, not recreated empty', async () => {
    unlinkSync(join(dir, 'events', 'manifest.json'));
    server = await openServer(dir);
    expect(server.logs.join('\n')).toContain('manifest.json');
    const ing = await ingest(server, 'events', dayEvents(DAY1, 1));
    expect(ing.body.error.code).toBe('TABLE_UNAVAILABLE');
    expect(readdirSync(segmentsDir('events')).length).toBeGreaterThan(0);
  });
});

describe('a damaged WAL', () => {
  // A flipped payload byte fails the record's checksum; a damaged length (its record then runs
  // past the end of the file) would read as a crash's torn tail but for the whole records after it.
  const damages: [string, (wal: string, record: number) => void][] = [
    ['a flipped byte in a record', (wal, record) => flipByte(wal, record + 8 + 5)],
    ['a record length pointing past the end', (wal, record) => {
      const buf = readFileSync(wal);
      buf.writeUInt32LE(buf.length, record);
      writeFileSync(wal, buf);
    }],
  ];
  it.each(damages)('(%s) replays every batch before the damage, drops later ones wholly, and keeps the file in quarantine', async (_, damage) => {
    const BATCH = 50;
    let s = await openServer(dir);
    for (let b = 1; b <= 8; b++) {
      const events = Array.from({ length: BATCH }, (_, i) => ({ user_id: `u${i % 40}`, time: DAY1 + b * 1000 + i, batch: b }));
      expect((await ingest(s, 'events', events)).status).toBe(200);
    }
    await s.close(false); // unflushed: the batches live only in the WAL
    const walDir = join(dir, 'events', 'wal');
    const shard0 = readdirSync(walDir).filter((f) => f.endsWith('-s00.wal')).map((f) => join(walDir, f));
    const wal = shard0.sort((a, b) => statSync(b).size - statSync(a).size)[0];
    // Walk the records (u32 length, u32 crc, payload) and damage the 4th.
    const buf = readFileSync(wal);
    let pos = 12;
    for (let r = 1; r < 4; r++) pos += 8 + buf.readUInt32LE(pos);
    damage(wal, pos);

    server = await openServer(dir);
    expect(server.logs.join('\n')).toContain(wal);
    const damaged = (await get(server, '/v1/tables/events')).body.damaged.map((d: { file: string }) => d.file);
    expect(damaged).toContain(wal);
    expect(await metricsText(server)).toContain(`file="${wal}"`);
    const perBatch = async (srv: OpenServer): Promise<unknown> =>
      (await query(srv, { table: 'events', measures: ['count'], where: ['batch', 'exists'], groupBy: ['batch'], orderBy: [['batch', 'asc']] })).body.rows;
    // Batches 1–3 precede the damage in shard 0's log; 4–8 lost their shard-0 part, so none of them counts.
    expect(await perBatch(server)).toEqual([[1, BATCH], [2, BATCH], [3, BATCH]]);
    expect((await countIn(server, 'events', DAY2, DAY2 + DAY_MS)).count).toBe(PER_DAY);

    // Recovery flushed what it replayed; the damaged log stays reported through its quarantined copy.
    await server.close(false);
    s = await openServer(dir);
    server = s;
    const kept = join(dir, 'events', 'quarantine', wal.split('/').pop()!);
    expect(existsSync(kept)).toBe(true);
    expect((await get(s, '/v1/tables/events')).body.damaged.map((d: { file: string }) => d.file)).toEqual([kept]);
    expect(await perBatch(s)).toEqual([[1, BATCH], [2, BATCH], [3, BATCH]]);
  });
});
