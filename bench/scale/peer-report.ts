/**
 * The peer part of the scale report: `buildPeerReport` turns the subset's state (state.ts
 * `PeerRunState`) and Shoal's query results at N into the JSON section (per query and engine:
 * events, coldMs, hotMs; the ratio Shoal-hot / faster-peer-hot; whether the answers agree) and
 * `peerMarkdown` renders "Shoal at N vs DuckDB/chDB at M", saying plainly that the sizes differ.
 * Pure: no I/O, tested on literal states.
 */
import { differences } from '../peers/agree.js';
import { findQuery } from '../peers/suites.js';
import type { ScaleQuery } from './queries.js';
import { fmtBytes, fmtInt, fmtMs, type ScaleReport } from './report.js';
import type { PeerRunState, SubsetEngine } from './state.js';

export const ENGINE_NAMES: Record<SubsetEngine, string> = { duckdb: 'DuckDB', chdb: 'chDB', shoal: 'Shoal' };
const PEERS: SubsetEngine[] = ['duckdb', 'chdb'];

/** One engine's result for one query. */
export interface EngineQueryResult {
  /** Events the engine held. */
  events: number;
  coldMs: number | null;
  hotMs: number | null;
  hotCpuMs: number | null;
  rowCount: number | null;
  peakRssBytes: number;
  /** Why there is no time: the query failed, the engine's load failed, or it has not run yet. */
  error: string | null;
}

export interface PeerQueryRow {
  name: string;
  title: string;
  /** Shoal on the whole run (N events). */
  shoal: EngineQueryResult;
  /** The engines on the subset (M events): duckdb, chdb, and shoal with --shoal-subset. */
  subset: Partial<Record<SubsetEngine, EngineQueryResult>>;
  /** The peer with the lower hot time at M, when either has one. */
  fasterPeer: 'duckdb' | 'chdb' | null;
  /** Shoal hot at N / the faster peer's hot at M (sizes differ). */
  shoalToFasterPeer: number | null;
  /** Shoal hot at M / the faster peer's hot at M (like for like), with --shoal-subset. */
  shoalSubsetToFasterPeer: number | null;
  /** 'agree', the first differences, or null when fewer than two answers could be compared. */
  answers: string | null;
}

export interface PeerLoadRow {
  engine: SubsetEngine;
  events: number;
  chunksLoaded: number;
  appendSeconds: number;
  appendCpuSeconds: number;
  /** Events per second of the appends (the engine's own times). */
  eventsPerSec: number | null;
  finishSeconds: number | null;
  finishCpuSeconds: number | null;
  peakRssBytes: number;
  bytesOnDisk: number | null;
  bytesPerEvent: number | null;
  recoveredChunks: number;
  error: string | null;
}

export interface PeerReport {
  /** Shoal's run size (N). */
  shoalEvents: number;
  /** The subset's size (M: whole leading chunks), and what was asked. */
  subsetEvents: number;
  requestedEvents: number;
  subsetChunks: number;
  engines: SubsetEngine[];
  duckdbMemoryLimit: string;
  generateWallSeconds: number;
  generatorPeakRssBytes: number;
  complete: boolean;
  loads: PeerLoadRow[];
  queries: PeerQueryRow[];
  notes: string[];
}

const notRun = (events: number, error: string): EngineQueryResult => ({ events, coldMs: null, hotMs: null, hotCpuMs: null, rowCount: null, peakRssBytes: 0, error });

/** Whether the kept answers agree, comparing each to the first engine's (null: fewer than two to compare). */
function agreement(q: ScaleQuery, peers: PeerRunState, engines: SubsetEngine[]): string | null {
  const answers = engines.flatMap((e) => {
    const r = peers.queries[e]?.[q.key];
    return r?.rows !== undefined && r.error === undefined ? [[e, r.rows] as const] : [];
  });
  if (answers.length < 2) return null;
  const suiteQuery = findQuery(q.suite, q.id);
  const [refEngine, ref] = answers[0];
  const diffs = answers.slice(1).flatMap(([e, rows]) => differences(suiteQuery, ref, rows, 2).map((d) => `${ENGINE_NAMES[e]} vs ${ENGINE_NAMES[refEngine]}: ${d}`));
  return diffs.length === 0 ? 'agree' : diffs.slice(0, 3).join('; ');
}

/**
 * The peer section of the report. `queries` are the run's queries (sampled ones have no peer
 * counterpart and are left out); `shoal` is Shoal's query results at N (ScaleReport.queries).
 */
export function buildPeerReport(peers: PeerRunState, engines: SubsetEngine[], queries: ScaleQuery[], shoal: ScaleReport['queries'], shoalEvents: number): PeerReport {
  const loads: PeerLoadRow[] = engines.map((e) => {
    const l = peers.loads[e];
    return {
      engine: e,
      events: l?.finish?.events ?? 0,
      chunksLoaded: l?.chunksDone.length ?? 0,
      appendSeconds: l?.appendSeconds ?? 0,
      appendCpuSeconds: l?.appendCpuSeconds ?? 0,
      eventsPerSec: l !== undefined && l.appendSeconds > 0 ? l.appendEvents / l.appendSeconds : null,
      finishSeconds: l?.finish?.seconds ?? null,
      finishCpuSeconds: l?.finish?.cpuSeconds ?? null,
      peakRssBytes: Math.max(l?.peakRssBytes ?? 0, l?.finish?.peakRssBytes ?? 0),
      bytesOnDisk: l?.finish?.bytesOnDisk ?? null,
      bytesPerEvent: l?.finish !== undefined && l.finish.events > 0 ? l.finish.bytesOnDisk / l.finish.events : null,
      recoveredChunks: l?.recoveredChunks?.length ?? 0,
      error: l?.error ?? null,
    };
  });
  const rows: PeerQueryRow[] = queries
    .filter((q) => q.sample === undefined)
    .map((q) => {
      const s = shoal.find((x) => x.name === q.key);
      const shoalAtN: EngineQueryResult =
        s === undefined ? notRun(shoalEvents, 'not run') : { events: shoalEvents, coldMs: s.coldMs, hotMs: s.hotMs, hotCpuMs: s.hotCpuMs, rowCount: s.rowCount, peakRssBytes: s.peakRssBytes, error: s.error };
      const subset: Partial<Record<SubsetEngine, EngineQueryResult>> = {};
      for (const e of engines) {
        const load = peers.loads[e];
        const r = peers.queries[e]?.[q.key];
        if (load?.error !== undefined) subset[e] = notRun(peers.events, `load failed`);
        else if (r === undefined) subset[e] = notRun(peers.events, 'not run');
        else subset[e] = { events: peers.events, coldMs: r.coldMs ?? null, hotMs: r.hotMedianMs ?? null, hotCpuMs: r.hotCpuMedianMs ?? null, rowCount: r.rowCount ?? null, peakRssBytes: r.peakRssBytes, error: r.error ?? null };
      }
      const timed = PEERS.filter((e) => subset[e]?.hotMs != null && subset[e]?.error === null);
      const fasterPeer = timed.length === 0 ? null : (timed.reduce((a, b) => (subset[b]!.hotMs! < subset[a]!.hotMs! ? b : a)) as 'duckdb' | 'chdb');
      const peerHot = fasterPeer === null ? null : subset[fasterPeer]!.hotMs!;
      const ratio = (r: EngineQueryResult | undefined): number | null => (r === undefined || r.error !== null || r.hotMs === null || peerHot === null || peerHot <= 0 ? null : r.hotMs / peerHot);
      return { name: q.key, title: q.title, shoal: shoalAtN, subset, fasterPeer, shoalToFasterPeer: ratio(shoalAtN), shoalSubsetToFasterPeer: ratio(subset.shoal), answers: agreement(q, peers, engines) };
    });
  const complete =
    engines.every((e) => peers.loads[e]?.error !== undefined || peers.loads[e]?.finish !== undefined) && rows.every((r) => engines.every((e) => r.subset[e]?.error !== 'not run'));
  return {
    shoalEvents,
    subsetEvents: peers.events,
    requestedEvents: peers.requestedEvents,
    subsetChunks: peers.chunkIndexes.length,
    engines,
    duckdbMemoryLimit: peers.duckdbMemoryLimit,
    generateWallSeconds: peers.generateWallSeconds,
    generatorPeakRssBytes: peers.generatorPeakRssBytes,
    complete,
    loads,
    queries: rows,
    notes: queries.some((q) => q.sample !== undefined) ? ['Sampled queries have no counterpart in the peers and are left out here.'] : [],
  };
}

const row = (cells: (string | number)[]): string => `| ${cells.join(' | ')} |`;
const ms = (v: number | null): string => (v === null ? '—' : fmtMs(v));
const timeCell = (r: EngineQueryResult | undefined, which: 'coldMs' | 'hotMs'): string =>
  r === undefined ? '—' : r.error === 'not run' ? 'not run' : r.error !== null ? (which === 'hotMs' ? `error: ${r.error}`.replace(/\|/g, '\\|').slice(0, 120) : '—') : ms(r[which]);
const ratioCell = (x: number | null): string => (x === null ? '—' : `${x.toFixed(2)}x`);

/** "Shoal at N vs DuckDB/chDB at M": the sizes, the loads, then the query table with ratios. */
export function peerMarkdown(r: PeerReport): string {
  const n = fmtInt(r.shoalEvents);
  const m = fmtInt(r.subsetEvents);
  const withShoal = r.engines.includes('shoal');
  const peerNames = r.engines.filter((e) => e !== 'shoal').map((e) => ENGINE_NAMES[e]).join('/');
  const out: string[] = [`## Shoal at ${n} vs ${peerNames} at ${m}${r.complete ? '' : ' (incomplete)'}`, ''];
  out.push(
    `**${r.shoalEvents === r.subsetEvents ? 'Same size here' : 'The sizes differ'}:** Shoal's times are on the whole run (${n} events); ${peerNames}'s on its first ${m} events ` +
      `(${r.subsetChunks} leading chunk(s) of the same generated data, generated again byte for byte${r.requestedEvents !== r.subsetEvents ? `; ${fmtInt(r.requestedEvents)} asked, rounded to whole chunks` : ''}). ` +
      `"Shoal ${n} / faster peer" divides Shoal's hot time at ${n} by the faster peer's hot time at ${m}: below 1, Shoal on ${r.shoalEvents === r.subsetEvents ? 'the same data' : 'more data'} was faster.` +
      (withShoal ? ` "Shoal at ${m}" is Shoal on the same subset, a like-for-like comparison.` : ''),
    '',
    `Loads run one engine at a time, each chunk appended in its own child process (the 100M comparison's tables and settings: DuckDB memory_limit ${r.duckdbMemoryLimit}, sorted by (user_id, time) at the end; chDB MergeTree ORDER BY (user_id, time), OPTIMIZE FINAL at the end${withShoal ? '; Shoal: `shoal ingest` per chunk, then full compaction' : ''}). ` +
      `Regenerating the subset took ${r.generateWallSeconds.toFixed(1)} s (generator peak RSS ${fmtBytes(r.generatorPeakRssBytes)}), not counted in any load.`,
    '',
  );
  out.push(row(['engine', 'events', 'chunks', 'append s', 'events/s', 'append CPU s', 'finish s', 'peak RSS', 'on disk', 'B/event', 'note']));
  out.push(row(Array(11).fill('---')));
  for (const l of r.loads) {
    const note = l.error !== null ? `**failed**: ${l.error}`.replace(/\|/g, '\\|') : l.recoveredChunks > 0 ? `${l.recoveredChunks} chunk(s) recovered untimed` : '';
    out.push(
      row([
        ENGINE_NAMES[l.engine],
        l.events === 0 ? '—' : fmtInt(l.events),
        `${l.chunksLoaded}/${r.subsetChunks}`,
        l.appendSeconds.toFixed(1),
        l.eventsPerSec === null ? '—' : fmtInt(l.eventsPerSec),
        l.appendCpuSeconds.toFixed(1),
        l.finishSeconds === null ? '—' : l.finishSeconds.toFixed(1),
        l.peakRssBytes === 0 ? '—' : fmtBytes(l.peakRssBytes),
        l.bytesOnDisk === null ? '—' : fmtBytes(l.bytesOnDisk),
        l.bytesPerEvent === null ? '—' : l.bytesPerEvent.toFixed(2),
        note,
      ]),
    );
  }
  out.push('');
  const head = ['query', `Shoal at ${n} hot`];
  if (withShoal) head.push(`Shoal at ${m} cold`, `Shoal at ${m} hot`);
  for (const e of r.engines.filter((x) => x !== 'shoal')) head.push(`${ENGINE_NAMES[e]} at ${m} cold`, `${ENGINE_NAMES[e]} at ${m} hot`);
  head.push(`Shoal ${n} / faster peer`);
  if (withShoal) head.push(`Shoal ${m} / faster peer`);
  head.push('answers at M');
  out.push('Hot = median of the runs after the first; cold = the first run in a fresh process; every engine and query in its own process.', '');
  out.push(row(head), row(head.map(() => '---')));
  for (const q of r.queries) {
    const cells = [`${q.name}`, timeCell(q.shoal, 'hotMs')];
    if (withShoal) cells.push(timeCell(q.subset.shoal, 'coldMs'), timeCell(q.subset.shoal, 'hotMs'));
    for (const e of r.engines.filter((x) => x !== 'shoal')) cells.push(timeCell(q.subset[e], 'coldMs'), timeCell(q.subset[e], 'hotMs'));
    cells.push(q.shoalToFasterPeer === null ? '—' : `${ratioCell(q.shoalToFasterPeer)} (${ENGINE_NAMES[q.fasterPeer!]})`);
    if (withShoal) cells.push(q.shoalSubsetToFasterPeer === null ? '—' : `${ratioCell(q.shoalSubsetToFasterPeer)} (${ENGINE_NAMES[q.fasterPeer!]})`);
    cells.push((q.answers ?? '—').replace(/\|/g, '\\|'));
    out.push(row(cells));
  }
  out.push('');
  if (r.notes.length > 0) out.push(...r.notes.map((x) => `- ${x}`), '');
  return out.join('\n');
}
