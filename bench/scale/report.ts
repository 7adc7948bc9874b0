/**
 * The scale benchmark's report: `buildReport` turns the run state (state.ts) into the JSON
 * written to bench/results/scale-<N>.json (issue 8's fields: events, ingestEventsPerSec,
 * bytesPerEvent, peakRssBytes, per query name/coldMs/hotMs, plus the rest measured), and
 * `markdownReport` renders it with every target beside its measurement and pass/fail. Pure: no
 * I/O, so the rendering is tested on literal states.
 */
import type { PeerReport } from './peer-report.js';
import type { ScaleQuery } from './queries.js';
import type { ChunkRecord, RunState } from './state.js';

/** Issue 8's run-level targets. */
export const INGEST_TARGET_EVENTS_PER_SEC = 1_000_000;
export const BYTES_PER_EVENT_TARGET = 8;
export const PEAK_RSS_TARGET_BYTES = 16 * 2 ** 30;

export interface TargetCheck {
  label: string;
  target: string;
  measured: string;
  /** null when not measured (step not run, or the query failed). */
  pass: boolean | null;
}

export interface ScaleEnv {
  date: string;
  cpus: number;
  cpuModel: string;
  memGiB: number;
  node: string;
  loadAvg1mStart: number;
  loadAvg1mEnd: number;
  loadAvg1mMax: number;
  /** The code measured: a commit, or several with the steps that ran on each. */
  commit: string;
  /** Memory settings passed to Shoal through the environment (unset = Shoal's defaults). */
  memorySettings: Record<string, string>;
}

export interface ScaleReport {
  events: number;
  complete: boolean;
  chunkEvents: number;
  chunkCount: number;
  chunksDone: number;
  users: number;
  seed: number;
  shuffled: boolean;
  env: ScaleEnv;
  eventsIngested: number;
  /** Events of the chunks whose ingest was timed (all but chunks recovered after an interruption). */
  timedEvents: number;
  /** Sustained rate: events of the timed chunks / the sum of their ingest times. */
  ingestEventsPerSec: number | null;
  ingestSeconds: number;
  ingestCpuSeconds: number;
  /** Events per CPU second of the ingest processes (all threads): steadier than the rate on a shared machine. */
  ingestEventsPerCpuSec: number | null;
  /** Ingest rate of the slowest chunk, to show what "sustained" hides. */
  minChunkEventsPerSec: number | null;
  generateSeconds: number;
  generateEventsPerSec: number | null;
  bytesPerEvent: number | null;
  bytesPerEventBeforeCompaction: number | null;
  tableBytes: number | null;
  peakRssBytes: number;
  peakRss: { harness: number; generator: number; ingest: number; compact: number; query: number };
  /** Wall time of generation (batches of chunks generated in parallel). */
  generateWallSeconds: number;
  chunks: (ChunkRecord & { eventsPerSec: number | null })[];
  compact: RunState['compact'];
  queries: {
    name: string;
    title: string;
    coldMs: number | null;
    hotMs: number | null;
    hotRunsMs: number[];
    hotCpuMs: number | null;
    targetMs: number | null;
    pass: boolean | null;
    rowCount: number | null;
    firstRow: unknown[] | null;
    sampled: boolean | null;
    peakRssBytes: number;
    error: string | null;
  }[];
  targets: TargetCheck[];
  notes: string[];
  /** DuckDB and chDB (and Shoal with --shoal-subset) on a subset of the run (peer-report.ts). */
  peers?: PeerReport;
}

export const median = (xs: number[]): number | null => {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const maxOf = (xs: number[]): number => xs.reduce((a, b) => Math.max(a, b), 0);

/** Builds the report of `state` for `queries` (in report order). */
export function buildReport(state: RunState, queries: ScaleQuery[], env: ScaleEnv, users: number, chunkCount: number): ScaleReport {
  const timed = state.chunks.filter((c) => c.recovered !== true && c.ingestSeconds > 0);
  const ingestSeconds = timed.reduce((s, c) => s + c.ingestSeconds, 0);
  const timedEvents = timed.reduce((s, c) => s + c.accepted, 0);
  const generateSeconds = timed.reduce((s, c) => s + c.generateSeconds, 0);
  const eventsIngested = state.chunks.reduce((s, c) => s + c.accepted, 0);
  const last = state.chunks.at(-1);
  const compact = state.compact;
  const qs = queries.map((q) => {
    const r = state.queries[q.key];
    const hot = r?.hotMedianMs ?? null;
    return {
      name: q.key,
      title: q.title,
      coldMs: r?.coldMs ?? null,
      hotMs: hot,
      hotRunsMs: r?.hotMs ?? [],
      hotCpuMs: r?.hotCpuMedianMs ?? null,
      targetMs: q.targetHotMs ?? null,
      pass: q.targetHotMs === undefined || hot === null || r?.error !== undefined ? null : hot < q.targetHotMs,
      rowCount: r?.rowCount ?? null,
      firstRow: r?.firstRow ?? null,
      sampled: r?.sampled ?? null,
      peakRssBytes: r?.peakRssBytes ?? 0,
      error: r === undefined ? 'not run' : (r.error ?? null),
    };
  });
  const peakRss = {
    harness: state.harnessPeakRssBytes,
    generator: state.generatorPeakRssBytes ?? 0,
    ingest: maxOf(state.chunks.map((c) => c.ingestPeakRssBytes)),
    compact: compact?.peakRssBytes ?? 0,
    query: maxOf(qs.map((q) => q.peakRssBytes)),
  };
  const peakRssBytes = maxOf(Object.values(peakRss));
  const ingestCpuSeconds = timed.reduce((s, c) => s + c.ingestCpuSeconds, 0);
  const ingestRate = ingestSeconds > 0 ? timedEvents / ingestSeconds : null;
  const bytesPerEvent = compact !== null && eventsIngested > 0 ? compact.tableBytesAfter / eventsIngested : null;
  const before = compact !== null ? compact.tableBytesBefore : (last?.tableBytesAfter ?? null);
  const chunkRates = timed.map((c) => c.accepted / c.ingestSeconds);
  const targets: TargetCheck[] = [
    { label: 'ingest, sustained', target: `≥ ${fmtInt(INGEST_TARGET_EVENTS_PER_SEC)} events/s`, measured: ingestRate === null ? '—' : `${fmtInt(ingestRate)} events/s`, pass: ingestRate === null ? null : ingestRate >= INGEST_TARGET_EVENTS_PER_SEC },
    { label: 'bytes on disk per event (after compaction)', target: `≤ ${BYTES_PER_EVENT_TARGET}`, measured: bytesPerEvent === null ? '—' : bytesPerEvent.toFixed(2), pass: bytesPerEvent === null ? null : bytesPerEvent <= BYTES_PER_EVENT_TARGET },
    { label: 'peak RSS of any process of the run (ingest CLI, compaction, queries, generators, harness)', target: `< ${fmtBytes(PEAK_RSS_TARGET_BYTES)}`, measured: fmtBytes(peakRssBytes), pass: peakRssBytes === 0 ? null : peakRssBytes < PEAK_RSS_TARGET_BYTES },
    ...qs
      .filter((q) => q.targetMs !== null)
      .map((q) => ({
        label: `${queries.find((x) => x.key === q.name)?.targetLabel ?? q.name} (${q.name}, hot)`,
        target: `< ${fmtMs(q.targetMs!)}`,
        measured: q.error !== null ? `error: ${q.error}` : q.hotMs === null ? '—' : fmtMs(q.hotMs),
        pass: q.pass,
      })),
  ];
  return {
    events: state.config.events,
    complete: state.chunks.length === chunkCount && compact !== null && qs.every((q) => q.error !== 'not run'),
    chunkEvents: state.config.chunkEvents,
    chunkCount,
    chunksDone: state.chunks.length,
    users,
    seed: state.config.seed,
    shuffled: state.config.shuffle,
    env,
    eventsIngested,
    timedEvents,
    ingestEventsPerSec: ingestRate,
    ingestSeconds,
    ingestCpuSeconds,
    ingestEventsPerCpuSec: ingestCpuSeconds > 0 ? timedEvents / ingestCpuSeconds : null,
    minChunkEventsPerSec: chunkRates.length === 0 ? null : Math.min(...chunkRates),
    generateSeconds,
    generateWallSeconds: state.generateWallSeconds ?? generateSeconds,
    generateEventsPerSec: generateSeconds > 0 ? timedEvents / generateSeconds : null,
    bytesPerEvent,
    bytesPerEventBeforeCompaction: before === null || eventsIngested === 0 ? null : before / eventsIngested,
    tableBytes: compact?.tableBytesAfter ?? last?.tableBytesAfter ?? null,
    peakRssBytes,
    peakRss,
    chunks: state.chunks.map((c) => ({ ...c, eventsPerSec: c.recovered === true || c.ingestSeconds <= 0 ? null : c.accepted / c.ingestSeconds })),
    compact,
    queries: qs,
    targets,
    notes: [...(state.notes ?? [])],
  };
}

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function fmtBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(0)} MiB`;
  return `${(n / 1024).toFixed(0)} KiB`;
}

export function fmtMs(ms: number): string {
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms >= 100 ? 0 : 1)} ms`;
}

const verdict = (pass: boolean | null): string => (pass === null ? '—' : pass ? 'pass' : '**FAIL**');
const row = (cells: (string | number)[]): string => `| ${cells.join(' | ')} |`;

/** The Markdown report: targets, ingest over time, compaction, queries, environment and notes. */
export function markdownReport(r: ScaleReport): string {
  const out: string[] = [];
  const status = r.complete ? '' : ` (incomplete: ${r.chunksDone}/${r.chunkCount} chunks${r.compact === null ? ', not compacted' : ''})`;
  out.push(`# Scale benchmark: ${fmtInt(r.events)} events${status}`, '');
  out.push(
    `${fmtInt(r.eventsIngested)} events ingested in ${r.chunkCount} chunk(s) of up to ${fmtInt(r.chunkEvents)} ` +
      `(${fmtInt(r.users)} actors, seed ${r.seed}, ${r.shuffled ? 'shuffled within each chunk' : 'in generator order'}), ` +
      `each through \`shoal ingest\` (a bulk load, durable once flushed: segments and manifest fsynced before its summary) in a child process. ` +
      `Started ${r.env.date}; code ${r.env.commit}; ${r.env.cpus} × ${r.env.cpuModel}, ${r.env.memGiB} GiB, Node ${r.env.node}; ` +
      `load average ${r.env.loadAvg1mStart} at the start, ${r.env.loadAvg1mEnd} at the last step, ${r.env.loadAvg1mMax} at most.`,
    '',
  );
  out.push('## Targets (issue 8)', '', row(['what', 'target', 'measured', '']), row(['---', '---', '---', '---']));
  for (const t of r.targets) out.push(row([t.label, t.target, t.measured, verdict(t.pass)]));
  out.push('');
  out.push('## Ingest over time', '');
  out.push(
    `Sustained: ${r.ingestEventsPerSec === null ? '—' : `**${fmtInt(r.ingestEventsPerSec)} events/s**`} ` +
      `(${fmtInt(r.timedEvents)} events${r.timedEvents < r.eventsIngested ? ' of the chunks timed; chunks recovered after an interruption have no times' : ''}, ${r.ingestSeconds.toFixed(1)} s of ingest, ${r.ingestCpuSeconds.toFixed(1)} CPU s${r.ingestEventsPerCpuSec === null ? '' : `, ${fmtInt(r.ingestEventsPerCpuSec)} events per CPU second`}); ` +
      `slowest chunk ${r.minChunkEventsPerSec === null ? '—' : `${fmtInt(r.minChunkEventsPerSec)} events/s`}. ` +
      `Generation is excluded: ${r.generateWallSeconds.toFixed(1)} s of wall time (${r.generateSeconds.toFixed(1)} s summed over chunks${r.generateEventsPerSec === null ? '' : `, ${fmtInt(r.generateEventsPerSec)} events/s per generator process`}), ` +
      `in batches of chunks generated in parallel before their ingests, never beside one.`,
    '',
  );
  out.push(row(['chunk', 'events', 'total events', 'ingest s', 'events/s', 'CPU s', 'CLI wall s', 'peak RSS', 'B/event (table)', 'segments', 'gen s']));
  out.push(row(Array(11).fill('---')));
  let total = 0;
  for (const c of r.chunks) {
    total += c.accepted;
    out.push(
      row([
        c.index,
        fmtInt(c.accepted),
        fmtInt(total),
        c.recovered ? 'recovered' : c.ingestSeconds.toFixed(1),
        c.eventsPerSec === null ? '—' : fmtInt(c.eventsPerSec),
        c.ingestCpuSeconds.toFixed(1),
        c.ingestWallSeconds.toFixed(1),
        fmtBytes(c.ingestPeakRssBytes),
        (c.tableBytesAfter / total).toFixed(2),
        c.segmentFilesAfter,
        c.generateSeconds.toFixed(1),
      ]),
    );
  }
  out.push('');
  out.push('## Compaction and size', '');
  if (r.compact === null) out.push('Not run yet.', '');
  else {
    const c = r.compact;
    out.push(
      `Full compaction (every partition with 2+ segments merged) in ${c.seconds.toFixed(1)} s (${c.cpuSeconds.toFixed(1)} CPU s, peak RSS ${fmtBytes(c.peakRssBytes)}): ` +
        `${fmtInt(c.segmentFilesBefore)} → ${fmtInt(c.segmentFilesAfter)} segment files, ` +
        `${fmtBytes(c.tableBytesBefore)} → ${fmtBytes(c.tableBytesAfter)} ` +
        `(${r.bytesPerEventBeforeCompaction?.toFixed(2) ?? '—'} → **${r.bytesPerEvent?.toFixed(2) ?? '—'} B/event**; table files without WAL).`,
      '',
    );
  }
  out.push('## Queries', '');
  out.push('Hot = median of the runs after the first; cold = the first run in a fresh process. Each query runs in its own process.', '');
  out.push(row(['query', 'cold', 'hot', 'hot CPU', 'target (hot)', '', 'rows', 'peak RSS', 'note']));
  out.push(row(Array(9).fill('---')));
  for (const q of r.queries) {
    const note = q.error !== null ? `error: ${q.error}` : q.sampled ? 'sampled' : q.name === 'count' && q.firstRow !== null ? `count = ${fmtInt(Number(q.firstRow[0]))}` : '';
    out.push(
      row([
        `${q.name}: ${q.title}`,
        q.coldMs === null ? '—' : fmtMs(q.coldMs),
        q.hotMs === null ? '—' : fmtMs(q.hotMs),
        q.hotCpuMs === null ? '—' : fmtMs(q.hotCpuMs),
        q.targetMs === null ? '' : `< ${fmtMs(q.targetMs)}`,
        q.targetMs === null ? '' : verdict(q.pass),
        q.rowCount ?? '—',
        fmtBytes(q.peakRssBytes),
        note.replace(/\|/g, '\\|'),
      ]),
    );
  }
  out.push('');
  out.push('## Memory', '');
  out.push(
    `Peak RSS (VmHWM sampled every 250 ms from /proc): harness ${fmtBytes(r.peakRss.harness)}, generator processes ${fmtBytes(r.peakRss.generator)}, ingest CLI ${fmtBytes(r.peakRss.ingest)}, ` +
      `compaction ${fmtBytes(r.peakRss.compact)}, query processes ${fmtBytes(r.peakRss.query)}. ` +
      `Memory settings: ${Object.keys(r.env.memorySettings).length === 0 ? "Shoal's defaults" : Object.entries(r.env.memorySettings).map(([k, v]) => `${k}=${v}`).join(', ')}.`,
    '',
  );
  if (r.notes.length > 0) out.push('## Notes', '', ...r.notes.map((n) => `- ${n}`), '');
  return out.join('\n');
}
