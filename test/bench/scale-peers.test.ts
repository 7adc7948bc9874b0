/**
 * The scale benchmark's peer comparison, its pure parts: which chunks make the subset (leading,
 * whole, at most the events asked), the command line (--help lists every option, unknown options
 * and bad values are named), keeping or resetting the saved peer state, and the report (the
 * ratio to the faster peer, failed loads and queries reported, answers compared, the sizes stated).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OPTIONS, parseOptions, usage } from '../../bench/scale/options.js';
import { buildPeerReport, peerMarkdown } from '../../bench/scale/peer-report.js';
import { peerStateFor, subsetEngines } from '../../bench/scale/peer-run.js';
import { planRun, subsetChunks } from '../../bench/scale/plan.js';
import { selectQueries } from '../../bench/scale/queries.js';
import type { ScaleReport } from '../../bench/scale/report.js';
import type { PeerRunState, SubsetQueryRecord } from '../../bench/scale/state.js';

const fcSeed = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);

describe('subsetChunks', () => {
  it('takes the leading whole chunks holding at most the events asked, as many as fit', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200_000 }), fc.integer({ min: 1, max: 50_000 }), fc.integer({ min: 1, max: 300_000 }), (events, chunkEvents, asked) => {
        const plan = planRun(events, chunkEvents, 1);
        const sub = subsetChunks(plan, asked);
        expect(sub.requested).toBe(asked);
        expect(sub.chunks).toEqual(plan.chunks.slice(0, sub.chunks.length));
        expect(sub.events).toBe(sub.chunks.reduce((s, c) => s + c.events, 0));
        expect(sub.chunks.length).toBeGreaterThanOrEqual(1);
        // within the ask unless the first chunk alone is larger; and the next chunk would not fit
        if (sub.chunks.length > 1 || plan.chunks[0].events <= asked) expect(sub.events).toBeLessThanOrEqual(asked);
        const next = plan.chunks[sub.chunks.length];
        if (next !== undefined) expect(sub.events + next.events).toBeGreaterThan(asked);
      }),
      { numRuns: 300, seed: fcSeed, verbose: 1 },
    );
  });

  it('is empty for 0, the whole run when asked for more, and the first 10 of 100 chunks at 1e8 of 1e9', () => {
    const plan = planRun(1e9, 1e7, 1);
    expect(subsetChunks(plan, 0)).toEqual({ requested: 0, events: 0, chunks: [] });
    const sub = subsetChunks(plan, 1e8);
    expect(sub.events).toBe(1e8);
    expect(sub.chunks.map((c) => c.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(subsetChunks(planRun(25, 10, 1), 1000).events).toBe(25);
    expect(subsetChunks(planRun(100, 30, 1), 50).events).toBe(30);
    expect(() => subsetChunks(plan, -1)).toThrow(RangeError);
  });
});

describe('command line', () => {
  it('lists every option in --help, and --help / -h ask for it', () => {
    const text = usage();
    for (const name of Object.keys(OPTIONS)) expect(text).toContain(`--${name}`);
    expect(parseOptions(['--help'], '/repo')).toBe('help');
    expect(parseOptions(['-h'], '/repo')).toBe('help');
  });

  it('names an unknown option, a stray argument and a value that is not a number', () => {
    expect(() => parseOptions(['--events', '2e6', '--bogus'], '/repo')).toThrow(/unknown option --bogus.*--help/);
    expect(() => parseOptions(['stray'], '/repo')).toThrow(/unexpected argument 'stray'/);
    expect(() => parseOptions(['--peer-events', 'lots'], '/repo')).toThrow(/--peer-events must be a count/);
    expect(() => parseOptions(['--hot-runs', 'x'], '/repo')).toThrow(/--hot-runs must be a number/);
    expect(() => parseOptions(['--queries', 'nope'], '/repo')).toThrow(/--queries: unknown query nope/);
  });

  it('defaults the peer subset to min(events, 1e8), with 0 turning the peers off', () => {
    const at = (argv: string[]): number => {
      const o = parseOptions(argv, '/repo');
      if (o === 'help') throw new Error('help');
      return o.peerEvents;
    };
    expect(at(['--events', '1e9'])).toBe(1e8);
    expect(at(['--events', '2e6'])).toBe(2e6);
    expect(at(['--events', '2e6', '--peer-events', '1e6'])).toBe(1e6);
    expect(at(['--events', '2e6', '--peer-events', '0'])).toBe(0);
    const o = parseOptions(['--events', '2e6', '--work', '/tmp/w', '--out', '/tmp/o', '--shoal-subset'], '/repo');
    expect(o !== 'help' && [o.workDir, o.outDir, o.shoalSubset]).toEqual(['/tmp/w', '/tmp/o', true]);
    const d = parseOptions([], '/repo');
    expect(d !== 'help' && [d.workDir, d.outDir, d.shoalSubset]).toEqual(['/repo/bench/out/scale-2e6', null, false]);
  });

  it('--peers-only brings the Shoal subset and its own work directory; --shoal-results needs it; a subset of 0 is refused', () => {
    const o = parseOptions(['--events', '1e9', '--peers-only', '--shoal-results', 'bench/results/r.json'], '/repo');
    expect(o !== 'help' && [o.peersOnly, o.shoalSubset, o.peerEvents, o.workDir, o.shoalResults?.endsWith('/bench/results/r.json')]).toEqual([true, true, 1e8, '/repo/bench/out/scale-1e9-peers', true]);
    const plain = parseOptions(['--events', '1e9'], '/repo');
    expect(plain !== 'help' && [plain.peersOnly, plain.shoalResults]).toEqual([false, null]);
    expect(() => parseOptions(['--shoal-results', 'r.json'], '/repo')).toThrow(/--shoal-results goes with --peers-only/);
    expect(() => parseOptions(['--peers-only', '--peer-events', '0'], '/repo')).toThrow(/--peers-only needs a subset/);
  });
});

describe('peerStateFor', () => {
  const plan = planRun(4000, 1000, 3);

  it('keeps a saved state for the same subset, adds engines, and resets for another subset', () => {
    const first = peerStateFor(undefined, subsetChunks(plan, 2000), subsetEngines(false), '8GB');
    expect(first.reset).toBe(false);
    expect(first.peers.chunkIndexes).toEqual([0, 1]);
    expect(Object.keys(first.peers.loads).sort()).toEqual(['chdb', 'duckdb']);
    first.peers.loads.duckdb!.chunksDone.push(0);
    const again = peerStateFor(first.peers, subsetChunks(plan, 2500), subsetEngines(true), '8GB');
    expect(again.reset).toBe(false);
    expect(again.peers.loads.duckdb!.chunksDone).toEqual([0]);
    expect(again.peers.loads.shoal!.chunksDone).toEqual([]);
    const other = peerStateFor(again.peers, subsetChunks(plan, 3000), subsetEngines(false), '8GB');
    expect(other.reset).toBe(true);
    expect(other.peers.chunkIndexes).toEqual([0, 1, 2]);
    expect(other.peers.loads.duckdb!.chunksDone).toEqual([]);
  });
});

describe('buildPeerReport', () => {
  const queries = selectQueries('count,count_by_event,funnel_3,funnel_3@0.1');
  const shoalAt = (name: string, hotMs: number | null, error: string | null = null): ScaleReport['queries'][number] => ({
    name, title: name, coldMs: hotMs === null ? null : hotMs * 3, hotMs, hotRunsMs: [], hotCpuMs: null, targetMs: null, pass: null, rowCount: 1, firstRow: null, sampled: false, peakRssBytes: 1 << 20, error,
  });
  const shoal = [shoalAt('count', 2), shoalAt('count_by_event', 30), shoalAt('funnel_3', 400), shoalAt('funnel_3@0.1', 50)];
  const q = (hotMedianMs: number, rows?: SubsetQueryRecord['rows'], error?: string): SubsetQueryRecord => ({
    coldMs: hotMedianMs * 2, hotMedianMs, hotMs: [hotMedianMs], rowCount: rows?.length ?? 1, ...(rows === undefined ? {} : { rows }), peakRssBytes: 1 << 20, wallSeconds: 1, ...(error === undefined ? {} : { error }),
  });
  const load = (events: number, error?: string): PeerRunState['loads']['duckdb'] => ({
    chunksDone: [0, 1], appendEvents: events, appendSeconds: 4, appendWallSeconds: 5, appendCpuSeconds: 6, peakRssBytes: 2 << 20,
    ...(error === undefined ? { finish: { seconds: 1, wallSeconds: 2, cpuSeconds: 1, peakRssBytes: 3 << 20, events, bytesOnDisk: events * 10 } } : { error }),
  });
  const state = (): PeerRunState => ({
    requestedEvents: 2000, events: 2000, chunkIndexes: [0, 1], duckdbMemoryLimit: '8GB', appending: null, generateWallSeconds: 3, generatorPeakRssBytes: 1 << 20,
    loads: { duckdb: load(2000), chdb: load(2000), shoal: load(2000) },
    queries: {
      duckdb: { count: q(4, [[2000]]), count_by_event: q(20, [['a', 1], ['b', 2]]), funnel_3: q(800, undefined, 'Binder Error: boom') },
      chdb: { count: q(8, [[2000]]), count_by_event: q(10, [['a', 1], ['b', 3]]), funnel_3: q(200) },
      shoal: { count: q(1, [[2000]]), count_by_event: q(5, [['a', 1], ['b', 2]]), funnel_3: q(100) },
    },
  });

  it('divides Shoal hot at N by the faster peer hot at M, skipping failed peers, and leaves sampled queries out', () => {
    const r = buildPeerReport(state(), subsetEngines(true), queries, shoal, 4000);
    expect(r.queries.map((x) => x.name)).toEqual(['count_by_event', 'funnel_3', 'count']);
    const by = Object.fromEntries(r.queries.map((x) => [x.name, x]));
    expect(by.count.fasterPeer).toBe('duckdb');
    expect(by.count.shoalToFasterPeer).toBeCloseTo(2 / 4);
    expect(by.count.shoalSubsetToFasterPeer).toBeCloseTo(1 / 4);
    expect(by.count_by_event.fasterPeer).toBe('chdb');
    expect(by.count_by_event.shoalToFasterPeer).toBeCloseTo(30 / 10);
    // DuckDB failed funnel_3: chDB is the only peer timed, though slower than DuckDB's failed hot
    expect(by.funnel_3.fasterPeer).toBe('chdb');
    expect(by.funnel_3.shoalToFasterPeer).toBeCloseTo(400 / 200);
    expect(by.funnel_3.subset.duckdb!.error).toBe('Binder Error: boom');
    expect(by.count.subset.duckdb).toMatchObject({ events: 2000, coldMs: 8, hotMs: 4 });
    expect(by.count.shoal).toMatchObject({ events: 4000, hotMs: 2 });
    expect(r.complete).toBe(true);
    expect(r.loads.find((l) => l.engine === 'duckdb')).toMatchObject({ events: 2000, eventsPerSec: 500, bytesPerEvent: 10, error: null });
  });

  it('compares the answers kept at M and names the engine that differs', () => {
    const by = Object.fromEntries(buildPeerReport(state(), subsetEngines(true), queries, shoal, 4000).queries.map((x) => [x.name, x]));
    expect(by.count.answers).toBe('agree');
    expect(by.count_by_event.answers).toMatch(/^chDB vs Shoal/);
    expect(by.funnel_3.answers).toBeNull();
  });

  it('reports a failed load in every query of that engine and as the load note, and is incomplete while queries remain', () => {
    const s = state();
    s.loads.chdb = load(2000, 'appending chunk 1: chdb append exited with SIGKILL');
    delete s.queries.chdb;
    const r = buildPeerReport(s, subsetEngines(false), queries, shoal, 4000);
    expect(r.complete).toBe(true);
    for (const row of r.queries) expect(row.subset.chdb!.error).toBe('load failed');
    expect(r.queries.find((x) => x.name === 'count_by_event')!.fasterPeer).toBe('duckdb');
    const md = peerMarkdown(r);
    expect(md).toContain('SIGKILL');
    delete s.queries.duckdb!.count;
    expect(buildPeerReport(s, subsetEngines(false), queries, shoal, 4000).complete).toBe(false);
  });

  it('renders "Shoal at N vs DuckDB/chDB at M", says the sizes differ, and shows the like-for-like column', () => {
    const md = peerMarkdown(buildPeerReport(state(), subsetEngines(true), queries, shoal, 4000));
    expect(md).toContain('## Shoal at 4,000 vs DuckDB/chDB at 2,000');
    expect(md).toContain('The sizes differ');
    expect(md).toContain('Shoal at 2,000 hot');
    expect(md).toContain('0.50x (DuckDB)');
    expect(md).toContain('Sampled queries have no counterpart');
    // No Shoal results at N (--peers-only without --shoal-results): "not run", not an error.
    const alone = peerMarkdown(buildPeerReport(state(), subsetEngines(true), queries, [], 4000));
    expect(alone).toMatch(/\| count_by_event \| not run \|/);
    expect(alone).not.toContain('error: not run');
    const same = peerMarkdown(buildPeerReport(state(), subsetEngines(false), queries, shoal, 2000));
    expect(same).toContain('Same size here');
    expect(same).not.toContain('Shoal at 2,000 cold');
  });
});
