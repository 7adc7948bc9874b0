/**
 * The scale benchmark's peer steps on real engines, small: two chunks appended one by one to
 * DuckDB and chDB (each step a child process) hold the chunks' events, finishing keeps them and
 * measures the store, a query runs cold and hot with the generator's count; a count that is off,
 * a child killed at its timeout and a query on a missing table come back as errors, never a hang.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeChunk } from '../../bench/scale/chunk-writer.js';
import { appendChunk, countLoaded, finishLoad, runSubsetQuery, subsetTarget } from '../../bench/scale/peer-steps.js';
import { planRun } from '../../bench/scale/plan.js';
import { selectQueries } from '../../bench/scale/queries.js';

const work = mkdtempSync(join(tmpdir(), 'shoal-scale-peers-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const plan = planRun(3000, 1500, 11);
const files = plan.chunks.map((c) => join(work, `chunk-${c.index}.ndjson`));
const countByEvent = selectQueries('count_by_event')[0];
const TIMEOUT_MS = 60_000;

beforeAll(() => {
  for (const [i, c] of plan.chunks.entries()) writeChunk(files[i], c, plan.idWidth, true);
});

describe.each(['duckdb', 'chdb'] as const)('%s subset steps', (engine) => {
  const dir = join(work, engine);
  const target = subsetTarget(dir, engine);

  it('appends chunk by chunk, finishes, counts, and answers a suite query cold and hot', async () => {
    mkdirSync(dir, { recursive: true });
    expect(await countLoaded(engine, target, TIMEOUT_MS)).toBe(0);
    const first = await appendChunk(engine, target, files[0], 1500, 1500, TIMEOUT_MS, () => {});
    expect(first.seconds).toBeGreaterThan(0);
    expect(first.peakRssBytes).toBeGreaterThan(0);
    await appendChunk(engine, target, files[1], 1500, 3000, TIMEOUT_MS, () => {});
    const finish = await finishLoad(engine, target, TIMEOUT_MS);
    expect(finish.events).toBe(3000);
    expect(finish.bytesOnDisk).toBeGreaterThan(0);
    expect(await countLoaded(engine, target, TIMEOUT_MS)).toBe(3000);
    const r = await runSubsetQuery(engine, target, countByEvent, 2, TIMEOUT_MS);
    expect(r.error).toBeUndefined();
    expect(r.hotMs).toHaveLength(2);
    // count by event sums to every event of both chunks
    expect(r.rows!.reduce((s, row) => s + Number(row[1]), 0)).toBe(3000);
  }, 90_000);

  it('throws when the store holds other than the expected events after an append', async () => {
    const other = subsetTarget(join(work, `${engine}-off`), engine);
    mkdirSync(join(work, `${engine}-off`), { recursive: true });
    await expect(appendChunk(engine, other, files[0], 1500, 1499, TIMEOUT_MS, () => {})).rejects.toThrow(/holds 1500 events after the append, expected 1499/);
  }, 60_000);
});

describe('failures come back as errors', () => {
  it('a child killed at its timeout is an Error naming the step; a query on a missing table is an error record', async () => {
    await expect(appendChunk('duckdb', join(work, 'slow.db'), files[0], 1500, 1500, 50, () => {})).rejects.toThrow(/duckdb append timed out after 0 s and was killed/);
    const r = await runSubsetQuery('duckdb', join(work, 'empty.db'), countByEvent, 1, TIMEOUT_MS);
    expect(r.error).toMatch(/events/);
    expect(r.coldMs).toBeUndefined();
  }, 60_000);
});
