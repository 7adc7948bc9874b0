/**
 * Funnels with a bucket and retention fill a row for every bucket (cohort period) of every kept
 * group, whether or not it has events, so their rows are not bounded by the groups the scan met:
 * past the query's group limit they are refused before any row is built (a funnel by 1,000 paths
 * in 1m buckets over 60 days, 86.4M rows from 2,000 events, ran the heap out).
 */
import { describe, expect, it } from 'vitest';
import { runQuery } from '../../engine/query/index.js';
import { memorySnapshot } from '../helpers/memory-snapshot.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);
/** 40 users, each a then b in its own path, over 10 days. */
const events = Array.from({ length: 40 }, (_, u) => [
  { user_id: `u${u}`, time: T0 + u * 6 * 3_600_000, event: 'a', path: `/p${u}` },
  { user_id: `u${u}`, time: T0 + u * 6 * 3_600_000 + 60_000, event: 'b', path: `/p${u}` },
]).flat();
const snapshot = memorySnapshot(events, { shards: 2 });
const steps = [['event', '=', 'a'], ['event', '=', 'b']];

describe('rows filled for every bucket of every group', () => {
  it('are refused past the group limit for a bucketed funnel, and answered up to it', async () => {
    // 10 days of 1h buckets (240) × 40 paths = 9,600 rows.
    const q = { table: 't', kind: 'funnel', steps, window: '1h', from: T0, to: T0 + 10 * DAY, bucket: '1h', groupBy: ['path'] };
    await expect(runQuery(snapshot, q, { maxGroups: 9_599 })).rejects.toMatchObject({ code: 'BAD_BUCKET', path: 'bucket', message: expect.stringContaining('240 buckets for each of 40 series') });
    const ok = await runQuery(snapshot, q, { maxGroups: 9_600 });
    expect(ok.rows.length).toBe(9_600);
    expect(ok.rows.reduce((n, r) => n + (r[2] as number), 0)).toBe(40); // step1 over all rows: every user once
    // With `other`, the folded series counts too: 5 kept + $other.
    await expect(runQuery(snapshot, { ...q, limit: 5, other: true }, { maxGroups: 240 * 6 - 1 })).rejects.toMatchObject({ code: 'BAD_BUCKET' });
    expect((await runQuery(snapshot, { ...q, limit: 5, other: true }, { maxGroups: 240 * 6 })).rows.length).toBe(240 * 6);
  });

  it('are refused past the group limit for retention by a group', async () => {
    // 10 daily cohorts × 40 paths = 400 rows.
    const q = { table: 't', kind: 'retention', start: ['event', '=', 'a'], return: ['event', '=', 'b'], period: '1d', periods: 2, from: T0, to: T0 + 10 * DAY, groupBy: ['path'] };
    await expect(runQuery(snapshot, q, { maxGroups: 399 })).rejects.toMatchObject({ code: 'BAD_QUERY', path: 'period', message: expect.stringContaining('10 cohort periods for each of 40 groups') });
    expect((await runQuery(snapshot, q, { maxGroups: 400 })).rows.length).toBe(400);
  });
});
