/**
 * The scale benchmark's pure parts and its child watch: chunk planning (exact counts, disjoint
 * actor ranges, distinct seeds), chunk files (deterministic, disjoint actors across chunks, the
 * shuffle permutes the ordered chunk, equal to the generator's own events apart from the ids),
 * report building (sustained rate, targets, failures reported) and the child watch (exit codes,
 * timeouts kill, RSS is sampled).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { eventToJson, generateEvents } from '../../bench/generator.js';
import { removeStaleShuffles } from '../../bench/generator/write.js';
import { copyAfterLines, writeChunk } from '../../bench/scale/chunk-writer.js';
import { globalUserId, planRun, scaleLabel } from '../../bench/scale/plan.js';
import { rssProfile, runWatched } from '../../bench/scale/proc-watch.js';
import { scaleQueries, selectQueries } from '../../bench/scale/queries.js';
import { buildReport, markdownReport, type ScaleEnv } from '../../bench/scale/report.js';
import { configMismatch, forgetQueries, loadState, newState, saveState, withNotes, type ChunkRecord } from '../../bench/scale/state.js';

const work = mkdtempSync(join(tmpdir(), 'shoal-scale-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const linesOf = (file: string): string[] => readFileSync(file, 'utf8').split('\n').slice(0, -1);
const userOf = (line: string): string => (JSON.parse(line) as { user_id: string }).user_id;

describe('planRun', () => {
  it('covers exactly N events with disjoint, contiguous user ranges and distinct seeds', () => {
    fc.assert(
      // at most 1000 chunks per plan, so 200 plans stay quick
      fc.property(fc.integer({ min: 1, max: 5_000_000 }), fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 2_000_000 }), fc.integer({ min: 1, max: 1000 }), (events, chunks, chunkMax, seed) => {
        const chunkEvents = Math.max(Math.ceil(events / chunks), Math.min(chunkMax, events));
        const plan = planRun(events, chunkEvents, seed);
        expect(plan.chunks.reduce((s, c) => s + c.events, 0)).toBe(events);
        expect(plan.chunks.length).toBe(Math.ceil(events / chunkEvents));
        let next = 0;
        for (const c of plan.chunks) {
          expect(c.events).toBeGreaterThan(0);
          expect(c.events).toBeLessThanOrEqual(chunkEvents);
          expect(c.userOffset).toBe(next);
          expect(c.users).toBeGreaterThanOrEqual(1);
          next += c.users;
        }
        expect(plan.totalUsers).toBe(next);
        expect(new Set(plan.chunks.map((c) => c.seed)).size).toBe(plan.chunks.length);
      }),
      { numRuns: 200, seed: Number(process.env.FC_SEED ?? Date.now() % 2 ** 31), verbose: 1 },
    );
  });

  it('puts the remainder in the last chunk and gives one user per 100 events by default', () => {
    const plan = planRun(25_000_000, 10_000_000, 1);
    expect(plan.chunks.map((c) => c.events)).toEqual([10_000_000, 10_000_000, 5_000_000]);
    expect(plan.chunks.map((c) => c.users)).toEqual([100_000, 100_000, 50_000]);
    expect(plan.idWidth).toBe(6);
    expect(planRun(1e9, 1e7, 1).idWidth).toBe(8);
  });

  it('rejects counts that are not positive integers', () => {
    expect(() => planRun(0, 10, 1)).toThrow(RangeError);
    expect(() => planRun(10, 0, 1)).toThrow(RangeError);
    expect(() => planRun(1.5, 1, 1)).toThrow(RangeError);
  });

  it('maps a local user id into the chunk range and labels runs like the issue', () => {
    const plan = planRun(300, 100, 1);
    expect(globalUserId('u000001', plan.chunks[0], 6)).toBe('u000001');
    expect(globalUserId('u000001', plan.chunks[2], 6)).toBe('u000003');
    expect(globalUserId('u000007', { index: 4, events: 1, users: 9, userOffset: 40_000_000, seed: 0 }, 8)).toBe('u40000007');
    expect(scaleLabel(1e9)).toBe('1e9');
    expect(scaleLabel(20e6)).toBe('2e7');
  });
});

describe('writeChunk', () => {
  const plan = planRun(12_000, 4_000, 7);

  it('writes the generator events of the chunk, ids shifted into its range, the same bytes every time', () => {
    const chunk = plan.chunks[1];
    const a = join(work, 'a.ndjson');
    const b = join(work, 'b.ndjson');
    expect(writeChunk(a, chunk, plan.idWidth, false).events).toBe(chunk.events);
    writeChunk(b, chunk, plan.idWidth, false);
    expect(readFileSync(a)).toEqual(readFileSync(b));
    const expected = [...generateEvents({ events: chunk.events, users: chunk.users, seed: chunk.seed, timeFormat: 'iso' })].map((ev) =>
      eventToJson({ ...ev, user_id: globalUserId(ev.user_id, chunk, plan.idWidth) }),
    );
    expect(linesOf(a)).toEqual(expected);
  });

  it('shuffles as a permutation of the ordered chunk, deterministically', () => {
    const chunk = plan.chunks[0];
    const ordered = join(work, 'o.ndjson');
    const s1 = join(work, 's1.ndjson');
    const s2 = join(work, 's2.ndjson');
    writeChunk(ordered, chunk, plan.idWidth, false);
    writeChunk(s1, chunk, plan.idWidth, true);
    writeChunk(s2, chunk, plan.idWidth, true);
    expect(readFileSync(s1)).toEqual(readFileSync(s2));
    expect(linesOf(s1)).not.toEqual(linesOf(ordered));
    expect([...linesOf(s1)].sort()).toEqual([...linesOf(ordered)].sort());
  });

  it('leaves no temp directory behind when a shuffle completes', () => {
    const dir = mkdtempSync(join(work, 'clean-'));
    writeChunk(join(dir, 'chunk.ndjson'), plan.chunks[2], plan.idWidth, true);
    expect(readdirSync(dir)).toEqual(['chunk.ndjson']);
  });

  it('finds and removes the temp directory of a shuffle killed while dealing, and nothing else', async () => {
    const dir = mkdtempSync(join(work, 'killed-'));
    writeFileSync(join(dir, 'chunk-3.ndjson'), 'kept\n');
    mkdirSync(join(dir, 'data'));
    // A shuffle of endless lines: the child says when it deals its first one, then is killed.
    const script = `
      import { writeSync, openSync } from 'node:fs';
      import { FileSink, shuffleInto } from ${JSON.stringify(resolve('bench/generator/write.ts'))};
      function* lines() { writeSync(1, 'dealing\\n'); for (;;) yield '{"user_id":"u1"}'; }
      shuffleInto(new FileSink(openSync(${JSON.stringify(join(dir, 'out.ndjson'))}, 'w')), ${JSON.stringify(dir)}, lines(), { events: 4_000_000, seed: 1 });`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((done, fail) => {
      child.stdout.on('data', () => done());
      child.on('exit', (code) => fail(new Error(`the shuffle child exited (${code}) before dealing`)));
    });
    const exited = new Promise((done) => child.on('exit', done));
    child.kill('SIGKILL');
    await exited;
    const temps = readdirSync(dir).filter((n) => n.startsWith('.shuffle-'));
    expect(temps).toHaveLength(1);
    expect(readdirSync(join(dir, temps[0])).length).toBe(4); // one bucket file per million lines
    expect(removeStaleShuffles(dir)).toBe(1);
    expect(readdirSync(dir).sort()).toEqual(['chunk-3.ndjson', 'data', 'out.ndjson']);
    expect(removeStaleShuffles(dir)).toBe(0);
    expect(removeStaleShuffles(join(dir, 'missing'))).toBe(0);
    expect(existsSync(join(dir, 'chunk-3.ndjson'))).toBe(true);
  });

  it('gives every chunk its own actors', () => {
    const users = plan.chunks.map((c) => {
      const f = join(work, `c${c.index}.ndjson`);
      writeChunk(f, c, plan.idWidth, false);
      return new Set(linesOf(f).map(userOf));
    });
    for (let i = 0; i < users.length; i++) {
      for (let j = i + 1; j < users.length; j++) expect([...users[i]].filter((u) => users[j].has(u))).toEqual([]);
      const n = plan.chunks[i];
      for (const u of users[i]) {
        const id = Number(u.slice(1));
        expect(id).toBeGreaterThan(n.userOffset);
        expect(id).toBeLessThanOrEqual(n.userOffset + n.users);
      }
    }
  });
});

describe('copyAfterLines', () => {
  it('keeps exactly the lines after the first k, across read buffers', async () => {
    const plan = planRun(40_000, 40_000, 3); // ~8 MB: several 4 MiB reads
    const file = join(work, 'all.ndjson');
    writeChunk(file, plan.chunks[0], plan.idWidth, true);
    const lines = linesOf(file);
    for (const k of [0, 1, 21_345, lines.length - 1, lines.length]) {
      const rest = join(work, `rest-${k}.ndjson`);
      await copyAfterLines(file, rest, k);
      expect(linesOf(rest)).toEqual(lines.slice(k));
    }
    await expect(copyAfterLines(file, join(work, 'none.ndjson'), lines.length + 1)).rejects.toThrow(/fewer than/);
  });
});

describe('queries', () => {
  it('has the suites by reference, the sampled funnel, and a target for each of the issue\'s query bounds', () => {
    const qs = scaleQueries();
    expect(qs.find((q) => q.key === 'funnel_3@0.1')).toMatchObject({ id: 'funnel_3', sample: 0.1, targetHotMs: 1000 });
    expect(qs.filter((q) => q.targetHotMs !== undefined).map((q) => q.key)).toEqual(['count_where_event', 'count_by_event', 'funnel_3', 'sessions_by_country', 'funnel_3@0.1']);
    expect(new Set(qs.map((q) => q.key)).size).toBe(qs.length);
    expect(selectQueries('count,funnel_3').map((q) => q.key).sort()).toEqual(['count', 'funnel_3']);
    expect(() => selectQueries('nope')).toThrow(/unknown query nope/);
  });
});

describe('buildReport', () => {
  const env: ScaleEnv = { date: 'd', cpus: 2, cpuModel: 'cpu', memGiB: 24, node: '20', loadAvg1mStart: 1, loadAvg1mEnd: 1, loadAvg1mMax: 1, commit: 'abc', memorySettings: {} };
  const chunk = (index: number, accepted: number, ingestSeconds: number, extra: Partial<ChunkRecord> = {}): ChunkRecord => ({
    index, events: accepted, accepted, rejected: 0, generateSeconds: 1, ndjsonBytes: 0, ingestSeconds, ingestWallSeconds: ingestSeconds + 1,
    ingestCpuSeconds: ingestSeconds, ingestPeakRssBytes: 100 * 2 ** 20 * (index + 1), tableBytesAfter: 10 * accepted * (index + 1), segmentFilesAfter: 1, finishedAt: '', ...extra,
  });

  it('reports the sustained rate over timed chunks, bytes per event after compaction, the largest RSS, and each target', () => {
    const state = newState({ events: 3000, chunkEvents: 1000, seed: 1, usersPerEvent: 0.01, shuffle: true });
    state.chunks = [chunk(0, 1000, 2), chunk(1, 1000, 0, { recovered: true }), chunk(2, 1000, 0.5)];
    state.compact = { seconds: 1, wallSeconds: 1, cpuSeconds: 1, peakRssBytes: 17 * 2 ** 30, segmentFilesBefore: 9, segmentFilesAfter: 3, tableBytesBefore: 30_000, tableBytesAfter: 21_000 };
    state.queries.count_where_event = { key: 'count_where_event', coldMs: 50, hotMs: [900, 1200, 1100], hotMedianMs: 1100, peakRssBytes: 1, wallSeconds: 1 };
    state.queries.funnel_3 = { key: 'funnel_3', peakRssBytes: 1, wallSeconds: 1, error: 'query process timed out' };
    state.notes = ['another load ran beside chunk 1'];
    const queries = selectQueries('count_where_event,funnel_3,count');
    const r = buildReport(state, queries, env, 30, 3);
    expect(r.ingestEventsPerSec).toBe(2000 / 2.5);
    expect(r.timedEvents).toBe(2000);
    expect(r.ingestEventsPerCpuSec).toBe(2000 / 2.5);
    expect(r.eventsIngested).toBe(3000);
    expect(r.bytesPerEvent).toBe(7);
    expect(r.peakRssBytes).toBe(17 * 2 ** 30);
    expect(r.complete).toBe(false); // `count` never ran
    const verdicts = Object.fromEntries(r.targets.map((t) => [t.label.split(' (')[0], t.pass]));
    expect(verdicts).toEqual({
      'ingest, sustained': false,
      'bytes on disk per event': true,
      'peak RSS of any process of the run': false,
      'count-where < 1 s': false,
      '3-step funnel < 5 s': null,
    });
    const md = markdownReport(r);
    expect(md).toContain('query process timed out');
    expect(md).toContain('- another load ran beside chunk 1');
    expect(md).toContain('| 1 | 1,000 | 2,000 | recovered |');
    expect(md).toMatch(/count-where < 1 s \(count_where_event, hot\) \| < 1\.00 s \| 1\.10 s \| \*\*FAIL\*\*/);
  });
});

describe('run state', () => {
  it('round-trips through its file and refuses a resume with other parameters, naming them', () => {
    const config = { events: 1000, chunkEvents: 100, seed: 1, usersPerEvent: 0.01, shuffle: true };
    const dir = mkdtempSync(join(work, 'state-'));
    expect(loadState(dir)).toBeNull();
    const state = newState(config);
    state.ingesting = { index: 3, pid: 42 };
    saveState(dir, state);
    expect(loadState(dir)).toEqual(state);
    expect(configMismatch(config, { ...config })).toBeNull();
    expect(configMismatch(config, { ...config, chunkEvents: 200, shuffle: false })).toBe('the saved run has chunkEvents=100, shuffle=true (this one chunkEvents=200, shuffle=false)');
  });

  it('adds only the notes a resume brings that the run does not have yet', () => {
    expect(withNotes(undefined, ['started'])).toEqual(['started']);
    // the resume repeats the starting command's note and adds one
    expect(withNotes(['started'], ['started', 'resumed at abc'])).toEqual(['started', 'resumed at abc']);
    expect(withNotes(['started', 'resumed at abc'], [])).toEqual(['started', 'resumed at abc']);
  });

  it('forgets the queries to measure again, from the records and the code map, noting their earlier times', () => {
    const state = newState({ events: 1000, chunkEvents: 100, seed: 1, usersPerEvent: 0.01, shuffle: true });
    state.queries.funnel_3 = { key: 'funnel_3', coldMs: 86_900, hotMs: [20_000, 21_000, 19_000], hotMedianMs: 20_000, peakRssBytes: 1, wallSeconds: 1 };
    state.queries.count = { key: 'count', coldMs: 32, hotMs: [17, 17, 18], hotMedianMs: 17, peakRssBytes: 1, wallSeconds: 1 };
    state.queries['funnel_3@0.1'] = { key: 'funnel_3@0.1', peakRssBytes: 1, wallSeconds: 1, error: 'query process timed out' };
    state.code = { abc1234: ['chunk 0', 'compaction', 'funnel_3', 'count'], def5678: ['funnel_3@0.1'] };
    const note = forgetQueries(state, ['funnel_3', 'funnel_3@0.1', 'sessions_by_country'], '2026-12-03 15:00');
    expect(note).toBe('Measured again on 2026-12-03 15:00 (--rerun), replacing the records of funnel_3 (cold 86.90 s, hot 20.00 s, on abc1234); funnel_3@0.1 (error: query process timed out, on def5678).');
    expect(Object.keys(state.queries)).toEqual(['count']);
    expect(state.code).toEqual({ abc1234: ['chunk 0', 'compaction', 'count'] }); // a commit left with no step goes
    // Nothing recorded under those keys: nothing to note.
    expect(forgetQueries(state, ['funnel_3'], 'later')).toBeNull();
  });
});

describe('rssProfile', () => {
  it('keeps at most the asked number of points, each the top of its stretch, so the peak survives', () => {
    const MiB = 2 ** 20;
    const samples: [number, number][] = Array.from({ length: 95 }, (_, i) => [i / 4, (i === 61 ? 900 : 100 + (i % 7)) * MiB]);
    const p = rssProfile(samples, 10);
    expect(p.length).toBeLessThanOrEqual(10);
    expect(Math.max(...p.map((x) => x[1]))).toBe(900);
    expect(p.find((x) => x[1] === 900)?.[0]).toBe(15.3);
    expect(rssProfile([])).toEqual([]);
  });
});

describe('runWatched', () => {
  it('reports exit codes, kills a child at its timeout, and samples its memory', async () => {
    const opts = { cwd: work, timeoutMs: 60_000 };
    const failed = await runWatched(['-e', 'process.stderr.write("bad\\n"); process.exit(3)'], opts);
    expect(failed).toMatchObject({ code: 3, timedOut: false });
    expect(failed.stderr).toContain('bad');
    const hung = await runWatched(['-e', 'setInterval(() => {}, 1000)'], { cwd: work, timeoutMs: 300 });
    expect(hung.timedOut).toBe(true);
    expect(hung.signal).toBe('SIGTERM');
    const big = await runWatched(['-e', 'const b = Buffer.alloc(300e6, 1); setTimeout(() => console.log(b[7]), 1500)'], opts);
    expect(big.code).toBe(0);
    expect(big.stdout.trim()).toBe('1');
    expect(big.peakRssBytes).toBeGreaterThan(300e6);
  });
});
