/**
 * The benchmark generator: deterministic, exact counts, valid events inside the window, skewed
 * activity, monotone funnels, and shuffles that permute the unshuffled output.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  CSV_COLUMNS,
  DEFAULT_END_MS,
  EVENT_NAMES,
  eventToJson,
  FUNNEL,
  generateEvents,
  writeEvents,
  writeNdjson,
  type GeneratedEvent,
  type GenerateOptions,
} from '../../bench/generator.js';
import { shardOf } from '../../engine/storage/hash.js';

const DAY_MS = 86_400_000;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const all = (opts: GenerateOptions): GeneratedEvent[] => [...generateEvents(opts)];

const countBy = <T>(items: Iterable<T>, key: (t: T) => string): Map<string, number> => {
  const m = new Map<string, number>();
  for (const t of items) m.set(key(t), (m.get(key(t)) ?? 0) + 1);
  return m;
};

const work = mkdtempSync(join(tmpdir(), 'shoal-gen-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Lines of a file, without the final empty string. */
const linesOf = (file: string): string[] => readFileSync(file, 'utf8').split('\n').slice(0, -1);

describe('generateEvents', () => {
  const sample = all({ events: 50_000, seed: 11 });

  it('is deterministic for a seed and differs between seeds', () => {
    expect(all({ events: 50_000, seed: 11 })).toEqual(sample);
    const other = all({ events: 50_000, seed: 12 });
    expect(other).toHaveLength(50_000);
    expect(other.map(eventToJson).join('\n')).not.toEqual(sample.map(eventToJson).join('\n'));
  });

  it('with actorShard, yields exactly the events of the users that shard holds, as the full stream has them', () => {
    const count = 4;
    const parts = Array.from({ length: count }, (_, index) => all({ events: 50_000, seed: 11, actorShard: { index, count } }));
    parts.forEach((part, index) => {
      expect(part.length).toBeGreaterThan(0);
      expect(part.every((e) => shardOf(e.user_id, count) === index)).toBe(true);
    });
    expect(parts.flat().map(eventToJson).sort()).toEqual(sample.map(eventToJson).sort());
    expect(parts[2].map(eventToJson)).toEqual(sample.filter((e) => shardOf(e.user_id, count) === 2).map(eventToJson));
  });

  it('produces exactly the requested count', () => {
    for (const [events, users] of [[0, undefined], [1, undefined], [7, 3], [10, 100], [999, undefined], [12_345, 17]] as const) {
      expect(all({ events, users, seed: 3 })).toHaveLength(events);
    }
  });

  it('gives every event a user, a time inside the window and a known event name', () => {
    const end = DEFAULT_END_MS;
    const names = new Set<string>(EVENT_NAMES);
    const bad = sample.filter((e) => {
      const t = Date.parse(e.time as string);
      return !/^u\d{6,}$/.test(e.user_id) || !ISO.test(e.time as string) || !(t >= end - 30 * DAY_MS && t < end) || !names.has(e.event);
    });
    expect(bad).toEqual([]);
  });

  it('honours days, endMs and epoch-millisecond times', () => {
    const endMs = Date.UTC(2024, 0, 15, 12, 30);
    const events = all({ events: 20_000, days: 3, endMs, seed: 5, timeFormat: 'ms' });
    const bad = events.filter((e) => !Number.isInteger(e.time) || !((e.time as number) >= endMs - 3 * DAY_MS && (e.time as number) < endMs));
    expect(bad).toEqual([]);
    expect(events).toHaveLength(20_000);
  });

  it('keeps each user’s events in time order, users one after another', () => {
    const seen = new Set<string>();
    const problems: string[] = [];
    let last = { user: '', time: -Infinity };
    for (const e of sample) {
      const t = Date.parse(e.time as string);
      if (e.user_id !== last.user) {
        if (seen.has(e.user_id)) problems.push(`${e.user_id} comes back`);
        seen.add(e.user_id);
      } else if (t < last.time) problems.push(`${e.user_id} goes back in time at ${e.time}`);
      last = { user: e.user_id, time: t };
    }
    expect(problems).toEqual([]);
    expect(seen.size).toBe(500); // events / 100, each with at least one event
  });

  it('skews activity: the top 1% of users hold far more than 1% of events', () => {
    const counts = [...countBy(sample, (e) => e.user_id).values()].sort((a, b) => b - a);
    const top = counts.slice(0, Math.ceil(counts.length / 100)).reduce((a, b) => a + b, 0);
    expect(top / sample.length).toBeGreaterThan(0.05);
    // and a long tail: the median user is below the mean
    expect(counts[counts.length >> 1]).toBeLessThan(sample.length / counts.length);
  });

  it('drops off monotonically along the purchase funnel', () => {
    const byEvent = countBy(sample, (e) => e.event);
    const steps = FUNNEL.map((name) => byEvent.get(name) ?? 0);
    for (let i = 1; i < steps.length; i++) expect(steps[i]).toBeLessThanOrEqual(steps[i - 1]);
    expect(steps[steps.length - 1]).toBeGreaterThan(0);
    expect(steps[0]).toBeGreaterThan(2 * steps[steps.length - 1]);
  });

  it('has realistic vocabularies: ~20 event names, ~50 paths, 30 countries, nested props with a plan', () => {
    expect(countBy(sample, (e) => e.event).size).toBe(EVENT_NAMES.length);
    const paths = countBy(sample, (e) => e.path).size;
    expect(paths).toBeGreaterThanOrEqual(40);
    expect(paths).toBeLessThanOrEqual(60);
    expect(countBy(sample, (e) => e.country).size).toBe(30);
    const withProps = sample.filter((e) => e.props !== undefined);
    expect(withProps.length).toBeGreaterThan(0);
    expect(withProps.filter((e) => typeof e.props!.plan !== 'string')).toEqual([]);
    const statuses = countBy(sample.filter((e) => e.status !== undefined), (e) => String(e.status));
    expect(statuses.get('200')! / sample.filter((e) => e.status !== undefined).length).toBeGreaterThan(0.5);
  });

  it('serializes each event exactly as JSON.stringify does', () => {
    const events = [...sample, ...all({ events: 2_000, seed: 2, timeFormat: 'ms' })];
    expect(events.filter((e) => eventToJson(e) !== JSON.stringify(e))).toEqual([]);
  });
});

describe('writeNdjson / writeEvents', () => {
  const opts = { events: 30_000, seed: 9 };

  it('writes the generated events, one JSON line each', async () => {
    const file = join(work, 'plain.ndjson');
    const r = await writeNdjson(file, opts);
    const lines = linesOf(file);
    expect(r.events).toBe(30_000);
    expect(lines).toEqual(all(opts).map((e) => JSON.stringify(e)));
    expect(r.bytes).toBe(readFileSync(file).length);
  });

  it('shuffles into a deterministic permutation of the unshuffled output, in one bucket or many', async () => {
    const plain = linesOf(join(work, 'plain.ndjson'));
    for (const shuffleWindow of [undefined, 4_000]) {
      const a = join(work, `shuffled-${shuffleWindow}-a.ndjson`);
      const b = join(work, `shuffled-${shuffleWindow}-b.ndjson`);
      await writeNdjson(a, { ...opts, shuffle: true, shuffleWindow });
      await writeNdjson(b, { ...opts, shuffle: true, shuffleWindow });
      const shuffled = linesOf(a);
      expect(readFileSync(a).equals(readFileSync(b))).toBe(true);
      expect(shuffled).not.toEqual(plain);
      expect([...shuffled].sort()).toEqual([...plain].sort());
      // globally mixed: the first 1,000 lines come from many users, not a few
      expect(new Set(shuffled.slice(0, 1_000).map((l) => JSON.parse(l).user_id)).size).toBeGreaterThan(100);
    }
  });

  it('writes CSV with a header and one row of fixed width per event', async () => {
    const file = join(work, 'events.csv');
    await writeEvents(file, { events: 5_000, seed: 4, format: 'csv', shuffle: true });
    const [header, ...rows] = linesOf(file);
    expect(header).toBe(CSV_COLUMNS.join(','));
    expect(rows).toHaveLength(5_000);
    expect(rows.filter((row) => row.split(',').length !== CSV_COLUMNS.length)).toEqual([]);
  });
});
