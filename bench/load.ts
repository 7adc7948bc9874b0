/**
 * HTTP load on loopback (npm run bench:load): a small dashboard query driven by autocannon,
 * alone, then while a heavy whole-table group-by runs in a loop, then while a bulk HTTP ingest
 * runs; and HTTP ingest throughput alone. The server is a child process (`shoal serve` from the
 * sources) over a data directory loaded once from a generated NDJSON file and cached in
 * bench/out/. Writes bench/results/load.json and load.md; never asserts.
 *
*   npm run bench:load -- [--events 10e6] [--duration 15] [--ingest-duration S] [--connections 4] [--server dist|src|DIR] [--skip heavy] [--rounds N]
 *     [--node-args='--cpu-prof ...'] [--out-name load]
 *   npm run bench:load -- --data bench/out/query-stores-100m/shoal [--table events] ...
 *
 * `--data DIR` serves an existing data directory (its table `events`, or `--table`) instead of
 * loading one; bulk ingest bodies then come from the 1M-event file. The bench's own `bulk` table
 * is dropped before and after the run, so the directory is left as it was found.
 *
 * `--server dist` (the default) runs the compiled server, as `npm start` does, built from the
 * sources first (buildShoal); `src` runs the sources through tsx, whose loader every worker
 * thread also has to start and whose output of the engine runs slower; `--server DIR`
 * runs another compiled tree (DIR/server/cli.js, e.g. `.build-x/dist` from
 * `npx tsc -p tsconfig.build.json --outDir .build-x/dist`).
 *
 * `--rounds N` adds the small query alone and under a bulk ingest in N alternating windows
 * (pooled per condition), which a shared machine's drifting load skews far less than two long
 * windows one after the other.
 *
 * Target (issue 5): the small query's p99 under load stays under 3x its p99 alone, and HTTP
 * ingest sustains >= 500k events/s.
 */
import autocannon from 'autocannon';
import { closeSync, existsSync, mkdirSync, openSync, readSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { runIngestCommand } from '../server/cli/ingest-command.js';
import { parseCount } from './gen-cli.js';
import { DEFAULT_END_MS, writeEvents } from './generator.js';
import { backgroundLoop, ingestOnce, percentile, queryOnce, send, startServer, type LoopStats } from './load-clients.js';
import { buildShoal, REPO } from './peers/common.js';

const HELP = `Usage: npm run bench:load -- [options]

  --events N         dataset size to generate and load (default 10e6; ignored with --data)
  --data DIR         serve an existing data directory instead (bulk bodies from the 1M file)
  --table T          the table queried in DIR (default events)
  --duration S       seconds per phase (default 15)
  --ingest-duration S  seconds of the HTTP-ingest-alone phase (default: --duration); e.g. 60
                     for a sustained figure with several flushes inside it
  --connections N    concurrent small-query clients (default 4)
  --body-events N    events per bulk ingest request (default 200000)
  --bodies N         distinct bodies, cut one after another from the file and sent in turn
                     (default 1: the same body every time, so later requests bring no new
                     actors or strings; use e.g. 25 with --bodies-from for fresh data)
  --bodies-from F    NDJSON file the bodies are cut from (default: the events file)
  --rounds N         also compare alone vs under ingest in N alternating windows
  --skip heavy       leave out the phase under a heavy group-by
  --server dist|src|DIR   dist/ built from the sources (default), the sources through tsx, or a
                          compiled tree DIR (DIR/server/cli.js)
  --node-args='...'  extra node flags for the server (e.g. --cpu-prof --cpu-prof-dir=/tmp/p)
  --out-name NAME    results in bench/results/NAME.json and .md (or an absolute path)
`;

const OUT = join(REPO, 'bench', 'out');
const RESULTS = join(REPO, 'bench', 'results');
const DAY_MS = 86_400_000;

/** Events per hour over the last day, with latency percentiles: a typical dashboard tile. */
const SMALL_QUERY = {
  table: 'events',
  from: DEFAULT_END_MS - DAY_MS,
  to: DEFAULT_END_MS,
  bucket: '1h',
  where: ['event', '=', 'page_view'],
  measures: ['count', 'p99(latency_ms)'],
};

/** A whole-table group-by with an exact distinct count and a percentile. */
const HEAVY_QUERY = {
  table: 'events',
  groupBy: ['country', 'app_version'],
  measures: ['count', 'uniq($actor)', 'p99(latency_ms)', 'avg(latency_ms)'],
  limit: 10_000,
};

interface Phase {
  name: string;
  requestsPerSec: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  requests: number;
  non2xx: number;
  errors: number;
  background?: { kind: string; iterations: number; failures: number; p50Ms: number; eventsPerSec?: number };
}

async function ensureEvents(events: number): Promise<string> {
  const file = join(OUT, `events-${events >= 1e6 ? `${events / 1e6}m` : events}-s1.ndjson`);
  if (existsSync(file)) return file;
  mkdirSync(OUT, { recursive: true });
  process.stderr.write(`generating ${events} events into ${file}\n`);
  await writeEvents(file, { events, seed: 1, shuffle: true });
  return file;
}

async function ensureStore(file: string, events: number): Promise<string> {
  const dir = join(OUT, `load-store-${events}`);
  if (existsSync(join(dir, 'events'))) return dir;
  process.stderr.write(`loading ${file} into ${dir}\n`);
  await runIngestCommand({ files: [file], table: 'events', dataDir: dir, out: process.stderr });
  return dir;
}

/** `count` NDJSON request bodies of `lines` lines each, cut one after another from the file's start. */
function bulkBodies(file: string, lines: number, count: number): Buffer[] {
  const bodies: Buffer[] = [];
  const fd = openSync(file, 'r');
  try {
    let offset = 0;
    for (let b = 0; b < count; b++) {
      const head = Buffer.alloc(lines * 400);
      const got = readSync(fd, head, 0, head.length, offset);
      let end = 0;
      for (let n = 0; n < lines; n++) {
        const nl = head.subarray(0, got).indexOf(0x0a, end);
        if (nl < 0) break;
        end = nl + 1;
      }
      if (end === 0) break; // the file is used up
      bodies.push(Buffer.from(head.subarray(0, end)));
      offset += end;
    }
  } finally {
    closeSync(fd);
  }
  return bodies;
}

async function cannon(port: number, name: string, connections: number, durationS: number): Promise<Phase> {
  const r = await autocannon({
    url: `http://127.0.0.1:${port}/v1/query`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(SMALL_QUERY),
    connections,
    duration: durationS,
  });
  return {
    name,
    requestsPerSec: r.requests.average,
    p50Ms: r.latency.p50,
    p90Ms: r.latency.p90,
    p99Ms: r.latency.p99,
    maxMs: r.latency.max,
    requests: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors + r.timeouts,
  };
}

/** The server process's CPU seconds (user + system, all threads) from its /metrics. */
async function serverCpuSeconds(port: number): Promise<number> {
  return (await serverCounters(port)).cpuSeconds;
}

/** Running totals from the server's /metrics that the phases are judged by. */
interface ServerCounters {
  cpuSeconds: number;
  /** Sum and count of shoal_ingest_phase_seconds per phase (parse, commit). */
  phaseSeconds: Record<string, number>;
  phaseCount: Record<string, number>;
  /** Time ingest slices waited for interactive queries. */
  deferredSeconds: number;
}

async function serverCounters(port: number): Promise<ServerCounters> {
  const text = (await send(port, 'GET', '/metrics')).text;
  const value = (re: RegExp): number => Number(re.exec(text)?.[1] ?? 0);
  const phaseSeconds: Record<string, number> = {};
  const phaseCount: Record<string, number> = {};
  for (const m of text.matchAll(/^shoal_ingest_phase_seconds_(sum|count)\{phase="(\w+)"\} ([\d.e+-]+)/gm)) {
    (m[1] === 'sum' ? phaseSeconds : phaseCount)[m[2]] = Number(m[3]);
  }
  return {
    cpuSeconds: Number(/^shoal_process_cpu_seconds_total ([\d.e+-]+)/m.exec(text)?.[1] ?? NaN),
    phaseSeconds,
    phaseCount,
    deferredSeconds: value(/^shoal_ingest_deferred_seconds_total ([\d.e+-]+)/m),
  };
}

/** Mean seconds per request of each ingest phase between two readings. */
function phaseMeans(before: ServerCounters, after: ServerCounters): Record<string, number> {
  const out: Record<string, number> = {};
  for (const phase of Object.keys(after.phaseSeconds)) {
    const n = (after.phaseCount[phase] ?? 0) - (before.phaseCount[phase] ?? 0);
    if (n > 0) out[phase] = (after.phaseSeconds[phase] - (before.phaseSeconds[phase] ?? 0)) / n;
  }
  return out;
}

function summarize(kind: string, s: LoopStats): NonNullable<Phase['background']> {
  const out: NonNullable<Phase['background']> = { kind, iterations: s.iterations, failures: s.failures, p50Ms: percentile(s.latenciesMs, 50) };
  if (s.events > 0) out.eventsPerSec = s.events / s.seconds;
  return out;
}

interface IngestFigures {
  eventsPerSec: number;
  bodyEvents: number;
  bodyBytes: number;
  /** Distinct bodies sent in turn, and the file they were cut from. */
  distinctBodies: number;
  bodiesFrom: string;
  seconds: number;
  cpuUsPerEvent: number;
  idleCoresEstimateEventsPerSec: number;
  /** Requests answered, and their latency as the client saw it. */
  requests: number;
  requestP50Ms: number;
  /** Mean seconds per request: parse (body received and parsed) and commit (stored durably). */
  phaseMeanSeconds: Record<string, number>;
}

function markdown(report: Record<string, unknown>, phases: Phase[], ingest: IngestFigures): string {
  const f = (n: number): string => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: 1 }) : '-');
  const alone = phases[0].p99Ms;
  let md = `# HTTP load on loopback\n\n${report.events} events (${report.dataset}); ${report.cpus}; Node ${process.version}; `;
  md += `autocannon, ${report.connections} connections, ${report.durationS} s per phase; server: \`shoal serve\` in a child process from ${report.server}, executor: ${report.executor}. `;
  const load = report.loadAverage as { before: number; after: number };
  md += `Machine load average (1 min) ${load.before.toFixed(1)} before, ${load.after.toFixed(1)} after${load.before > availableParallelism() ? ' (busy with other work: figures are skewed)' : ''}.\n\n`;
  md += `Small query: \`${JSON.stringify(SMALL_QUERY)}\`\n\nHeavy query: \`${JSON.stringify(HEAVY_QUERY)}\` (${f(report.heavyQueryMs as number)} ms alone)\n\n`;
  md += '| phase | small queries/s | p50 ms | p90 ms | p99 ms | p99 vs alone | background |\n|---|---|---|---|---|---|---|\n';
  let base = alone;
  for (const p of phases) {
    if (p.name.startsWith('small query alone')) base = p.p99Ms;
    const bg = p.background === undefined ? '-' : `${p.background.kind}: ${p.background.iterations} done, p50 ${f(p.background.p50Ms)} ms${p.background.eventsPerSec ? `, ${f(p.background.eventsPerSec)} events/s` : ''}${p.background.failures ? `, ${p.background.failures} failed` : ''}`;
    md += `| ${p.name} | ${f(p.requestsPerSec)} | ${f(p.p50Ms)} | ${f(p.p90Ms)} | ${f(p.p99Ms)} | ${f(p.p99Ms / base)}x | ${bg} |\n`;
  }
  md += `\nServer CPU per small query (alone): ${f(report.cpuMsPerSmallQuery as number)} ms.\n\n`;
  md += `HTTP ingest alone: **${f(ingest.eventsPerSec)} events/s** (NDJSON bodies of ${f(ingest.bodyEvents)} events, ${f(ingest.bodyBytes / 1048576)} MiB, ${ingest.distinctBodies === 1 ? 'the same body every time' : `${ingest.distinctBodies} distinct bodies cut in order from ${basename(ingest.bodiesFrom)}, sent in turn`}, 2 in flight, ${f(ingest.seconds)} s); `;
  md += `server CPU ${f(ingest.cpuUsPerEvent)} µs per event, i.e. about ${f(ingest.idleCoresEstimateEventsPerSec)} events/s if ${availableParallelism()} cores were idle (estimate). `;
  const means = ingest.phaseMeanSeconds;
  md += `${ingest.requests} requests, p50 ${f(ingest.requestP50Ms)} ms; server side (mean): ${f((means.parse ?? NaN) * 1000)} ms receiving and parsing the body, ${f((means.commit ?? NaN) * 1000)} ms committing it (split, WAL write and fsync, tail append, waits included).\n\n`;
  const deferred = report.ingestDeferredSeconds as number;
  if (deferred > 0) md += `While the bulk ingest ran, its main-thread slices waited ${f(deferred)} s in all for interactive queries to finish.\n\n`;
  md += `Targets: small-query p99 under load < 3x alone; HTTP ingest >= 500,000 events/s.\n`;
  return md;
}

function phaseOf(name: string, latenciesMs: number[], seconds: number, background?: Phase['background']): Phase {
  return {
    name,
    requestsPerSec: latenciesMs.length / seconds,
    p50Ms: percentile(latenciesMs, 50),
    p90Ms: percentile(latenciesMs, 90),
    p99Ms: percentile(latenciesMs, 99),
    maxMs: percentile(latenciesMs, 100),
    requests: latenciesMs.length,
    non2xx: 0,
    errors: 0,
    background,
  };
}

/**
 * The small query alone and under a bulk ingest in `rounds` alternating windows of
 * `durationS / rounds` s each (a closed loop of `connections` clients), pooled per condition:
 * on a shared machine whose load drifts, alternating windows compare like with like far better
 * than one long window of each. Null when rounds is 0.
 */
async function interleavedRounds(port: number, rounds: number, durationS: number, connections: number, body: Buffer[]): Promise<Phase[] | null> {
  if (!(rounds > 0)) return null;
  const windowMs = (durationS * 1000) / rounds;
  const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const alone: LoopStats[] = [];
  const loaded: LoopStats[] = [];
  const ingests: LoopStats[] = [];
  for (let r = 0; r < rounds; r++) {
    const a = backgroundLoop(connections, queryOnce(port, SMALL_QUERY));
    await wait(windowMs);
    alone.push(await a.stop());
    const bulk = backgroundLoop(2, ingestOnce(port, 'bulk', body));
    await wait(1000); // the requests' bodies are being parsed: let commits start too
    const b = backgroundLoop(connections, queryOnce(port, SMALL_QUERY));
    await wait(windowMs);
    loaded.push(await b.stop());
    ingests.push(await bulk.stop());
  }
  const pool = (list: LoopStats[]) => ({ latencies: list.flatMap((l) => l.latenciesMs), seconds: list.reduce((n, l) => n + l.seconds, 0) });
  const A = pool(alone);
  const B = pool(loaded);
  const I = pool(ingests);
  const events = ingests.reduce((n, l) => n + l.events, 0);
  const bg = { kind: 'bulk ingest', iterations: I.latencies.length, failures: ingests.reduce((n, l) => n + l.failures, 0), p50Ms: percentile(I.latencies, 50), eventsPerSec: events / I.seconds };
  return [
    phaseOf(`small query alone (${rounds} interleaved windows)`, A.latencies, A.seconds),
    phaseOf(`while a bulk HTTP ingest runs (${rounds} interleaved windows)`, B.latencies, B.seconds, bg),
  ];
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      help: { type: 'boolean', short: 'h' },
      events: { type: 'string', default: '10e6' },
      duration: { type: 'string', default: '15' },
      'ingest-duration': { type: 'string' },
      connections: { type: 'string', default: '4' },
      'body-events': { type: 'string', default: '200000' },
      bodies: { type: 'string', default: '1' },
      'bodies-from': { type: 'string' },
      'out-name': { type: 'string', default: 'load' },
      server: { type: 'string', default: 'dist' },
      data: { type: 'string' },
      table: { type: 'string', default: 'events' },
      skip: { type: 'string', default: '' },
      'node-args': { type: 'string', default: '' },
      rounds: { type: 'string', default: '0' },
    },
  });
  // `--skip heavy` leaves out the phase under a heavy query (e.g. while working on ingest).
  const skip = new Set(values.skip!.split(',').filter((p) => p !== ''));
  if (values.help === true) {
    process.stdout.write(HELP);
    return;
  }
  const durationS = Number(values.duration);
  const ingestDurationS = Number(values['ingest-duration'] ?? values.duration);
  if (!(durationS > 0) || !(ingestDurationS > 0)) throw new Error('--duration and --ingest-duration take a positive number of seconds');
  const connections = Number(values.connections);
  const table = values.table!;
  SMALL_QUERY.table = table;
  HEAVY_QUERY.table = table;
  // An existing store is served as is; otherwise one is loaded (once) from a generated file.
  let events = parseCount(values.events!);
  const file = await ensureEvents(values.data === undefined ? events : Math.min(events, 1e6));
  const dataDir = values.data ?? (await ensureStore(file, events));
  const bodiesFrom = values['bodies-from'] ?? file;
  const body = bulkBodies(bodiesFrom, Number(values['body-events']), Math.max(1, Number(values.bodies)));
  const bodyEvents = body[0].toString('latin1').split('\n').length - 1;
  const loadBefore = loadavg()[0];
  const from = values.server!;
  if (from === 'dist') buildShoal();
  const server = await startServer(dataDir, from, {}, values['node-args']!.split(' ').filter((a) => a !== ''));
  const { port } = server;
  try {
    await send(port, 'DELETE', '/v1/tables/bulk').catch(() => undefined);
    if (values.data !== undefined) {
      const info = await send(port, 'GET', `/v1/tables/${table}`);
      if (info.status !== 200) throw new Error(`table ${table} in ${dataDir}: ${info.status} ${info.text.slice(0, 200)}`);
      events = (JSON.parse(info.text) as { rowCount: number }).rowCount;
    }
    // Warm up (the query path, and the ingest path: parse pool started, code compiled), and time
    // the heavy query alone.
    for (let i = 0; i < 20; i++) await queryOnce(port, SMALL_QUERY)();
    await ingestOnce(port, 'bulk', body)();
    await queryOnce(port, HEAVY_QUERY)();
    const heavyStarted = performance.now();
    await queryOnce(port, HEAVY_QUERY)();
    const heavyQueryMs = performance.now() - heavyStarted;
    process.stderr.write(`heavy query alone: ${heavyQueryMs.toFixed(0)} ms\n`);

    const phases: Phase[] = [];
    // Server CPU time (all threads) per small query, and per ingested event: a figure that other
    // work on a shared machine disturbs far less than wall-clock latency.
    const cpuBefore = await serverCpuSeconds(port);
    phases.push(await cannon(port, 'small query alone', connections, durationS));
    const cpuMsPerSmallQuery = ((await serverCpuSeconds(port)) - cpuBefore) * 1000 / Math.max(1, phases[0].requests);
    if (!skip.has('heavy')) {
      const heavy = backgroundLoop(1, queryOnce(port, HEAVY_QUERY));
      const withHeavy = await cannon(port, 'while a heavy group-by runs in a loop', connections, durationS);
      withHeavy.background = summarize('heavy group-by', await heavy.stop());
      phases.push(withHeavy);
    }
    const deferredBefore = (await serverCounters(port)).deferredSeconds;
    const bulk = backgroundLoop(2, ingestOnce(port, 'bulk', body));
    const withIngest = await cannon(port, 'while a bulk HTTP ingest runs', connections, durationS);
    withIngest.background = summarize('bulk ingest', await bulk.stop());
    phases.push(withIngest);
    const ingestDeferredSeconds = (await serverCounters(port)).deferredSeconds - deferredBefore;

    const interleaved = await interleavedRounds(port, Number(values.rounds), durationS, connections, body);
    if (interleaved !== null) phases.push(...interleaved);

    const ingestBefore = await serverCounters(port);
    const alone = backgroundLoop(2, ingestOnce(port, 'bulk', body));
    await new Promise((resolve) => setTimeout(resolve, ingestDurationS * 1000));
    const ingestStats = await alone.stop();
    const ingestAfter = await serverCounters(port);
    const cpuUsPerEvent = (ingestAfter.cpuSeconds - ingestBefore.cpuSeconds) * 1e6 / Math.max(1, ingestStats.events);
    const ingest = {
      eventsPerSec: ingestStats.events / ingestStats.seconds,
      bodyEvents,
      bodyBytes: body[0].length,
      distinctBodies: body.length,
      bodiesFrom,
      seconds: ingestStats.seconds,
      cpuUsPerEvent,
      // What the server's CPU cost per event allows on this many idle cores (an estimate).
      idleCoresEstimateEventsPerSec: (availableParallelism() * 1e6) / cpuUsPerEvent,
      requests: ingestStats.iterations,
      requestP50Ms: percentile(ingestStats.latenciesMs, 50),
      phaseMeanSeconds: phaseMeans(ingestBefore, ingestAfter),
    };

    const metricsText = (await send(port, 'GET', '/metrics')).text;
    const busy = [...metricsText.matchAll(/^shoal_worker_busy_seconds_total\{worker="([^"]+)"\} ([\d.e+-]+)/gm)].map((m) => ({ worker: m[1], seconds: Number(m[2]) }));
    const rss = Number(/^shoal_process_resident_memory_bytes ([\d.e+]+)/m.exec(metricsText)?.[1] ?? NaN);
    const report = {
      date: new Date().toISOString(),
      events,
      dataset: values.data === undefined ? `bench/generator, seed 1, ${file.split('/').pop()}` : `${dataDir}, table ${table}`,
      cpus: `${availableParallelism()} x ${cpus()[0]?.model ?? 'cpu'}`,
      // Other work on the machine skews every figure: the 1-minute load average before and after.
      loadAverage: { before: loadBefore, after: loadavg()[0] },
      executor: busy.some((b) => b.worker !== 'main') ? 'query worker pool' : 'in-process (main thread)',
      server: from === 'dist' ? 'compiled dist/ (node bin/shoal.mjs serve)' : from === 'src' ? 'sources through tsx' : `compiled ${from}`,
      connections,
      durationS,
      heavyQueryMs,
      cpuMsPerSmallQuery,
      ingestDeferredSeconds,
      smallQuery: SMALL_QUERY,
      heavyQuery: HEAVY_QUERY,
      phases,
      ingest,
      workerBusySeconds: busy,
      serverRssBytes: rss,
      targets: { p99UnderLoadVsAlone: 3, ingestEventsPerSec: 500_000 },
    };
    mkdirSync(RESULTS, { recursive: true });
    writeFileSync(resolve(RESULTS, `${values['out-name']}.json`), `${JSON.stringify(report, null, 2)}\n`);
    const md = markdown(report, phases, ingest);
    writeFileSync(resolve(RESULTS, `${values['out-name']}.md`), md);
    process.stdout.write(md);
  } finally {
    await send(port, 'DELETE', '/v1/tables/bulk').catch(() => undefined);
    process.stderr.write(`server exited with ${await server.stop()}\n`);
  }
}

await main();
