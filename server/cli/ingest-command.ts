/**
 * `shoal ingest FILE... --table T`: parses files on worker threads and stores them durably in a
 * data directory, with a progress bar and a final summary. Bad lines never stop the run: they
 * go to the table's dead-letter log, and the command still exits 0.
 */
import { constants as osConstants } from 'node:os';
import { basename, join } from 'node:path';
import { assertTableName, type Store } from '../../engine/storage/store.js';
import { bulkLoadMemoryBudgetBytes, type IngestResult } from '../../engine/storage/table-options.js';
import type { Table } from '../../engine/storage/table.js';
import { defaultActorColumn, readEvents, releaseBatch, type Format } from '../../ingest/index.js';
import type { EventBatch } from '../../ingest/batch.js';
import { checkInputFile } from '../../ingest/input.js';
import { checkDataDir, openStore } from './data-dir.js';
import { formatCount, ProgressBar } from './progress.js';

export interface IngestCommandOptions {
  files: string[];
  table: string;
  dataDir: string;
  actor?: string;
  time?: string;
  format?: string;
  out?: NodeJS.WritableStream;
  /** Part n of the run (a parsed batch, in input order) is stored under key K, then K:1, K:2, …, as with --url. */
  idempotencyKey?: string;
}

export interface IngestTotals {
  accepted: number;
  rejected: number;
  typeErrors: number;
  lines: number;
  seconds: number;
  errors: { file: string; line: number; message: string }[];
  /** Events of parts an earlier run with the same idempotency key had stored (counted in accepted, not stored again). */
  already?: number;
  /** The signal that stopped the run early, the input it stopped in, and how many of its first records are stored. */
  interrupted?: { signal: NodeJS.Signals; file: string; records: number };
}

/** One file's totals; `brokeOff` when its read failed (a damaged .gz), its records before the break being stored. */
export type FileTotals = Omit<IngestTotals, 'seconds' | 'interrupted'> & { already: number; brokeOff?: boolean };

function newFileTotals(): FileTotals {
  return { accepted: 0, rejected: 0, typeErrors: 0, lines: 0, already: 0, errors: [] };
}

/**
 * `p`, marked handled: a call that fails while the loop awaits something else must not count as
 * an unhandled rejection (which ends the process); it is awaited, and thrown, in its turn.
 */
export function handled<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

/** Waits for every promise; throws the first rejection, if any, once all have settled. */
export async function settleAll(promises: readonly Promise<unknown>[]): Promise<void> {
  const failed = (await Promise.allSettled(promises)).find((r) => r.status === 'rejected');
  if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
}

/** How many batches may wait for their group commit at once (they share fsyncs). */
const IN_FLIGHT = 4;

/**
 * What ingestFile needs of a table: its columns, and somewhere to store batches. A table not
 * created yet may have no actor column (`formatSeen` then gives it the input format's default).
 * `columnTypes` gives the types its columns have when a file starts (CSV reads them so).
 */
export type IngestTarget = Pick<Table, 'timeColumn' | 'ingest'> & {
  actorColumn: string | undefined;
  formatSeen?: (format: Format) => void;
  columnTypes?: () => ReadonlyMap<string, string> | undefined;
};

/** Streams one file into `table`; returns its totals. */
export async function ingestFile(
  table: IngestTarget,
  file: string,
  opts: {
    format?: string;
    onProgress?: (events: number, bytes: number, total: number | null) => void;
    partKey?: () => string | undefined;
    /**
     * Asked before each batch is stored: true stops reading, the batches before it being stored (a
     * prefix of the input). A batch that arrives after the stop is dropped: Ctrl-C on a pipeline
     * also ends its producer, which may cut the input's last record.
     */
    stop?: () => boolean;
    /** Filled as the file is read (its counts stay the caller's when the read fails). */
    totals?: FileTotals;
  },
): Promise<FileTotals> {
  const totals = opts.totals ?? newFileTotals();
  const source = sourceName(file);
  const inFlight: Promise<IngestResult>[] = [];
  let bytes = 0;
  let total: number | null = null;
  const take = (r: IngestResult): void => {
    if (r.duplicate === true) totals.already += r.accepted;
    totals.accepted += r.accepted;
    totals.rejected += r.rejected;
    totals.typeErrors += r.typeErrors;
    for (const e of r.errors) if (totals.errors.length < 100) totals.errors.push({ file: source, ...e });
    opts.onProgress?.(totals.accepted + totals.rejected, bytes, total);
  };
  const events = readEvents(file === STDIN ? process.stdin : file, {
    format: opts.format as never,
    actorColumn: table.actorColumn,
    timeColumn: table.timeColumn,
    columnTypes: table.columnTypes?.(),
    onFormat: table.formatSeen,
    onProgress: (p) => {
      bytes = p.bytesRead;
      total = p.totalBytes;
    },
    // A fresh process: small first chunks, so V8 optimizes the ingest path having seen all of it.
    rampUp: true,
  });
  const store = (batch: EventBatch): void => {
    totals.lines += batch.lineCount;
    // Once the table holds the batch, its buffers go back to the parse workers (batch-buffers.ts).
    inFlight.push(
      handled(
        // Without part keys the run is a bulk load: committed by flushes (see runIngestCommand).
        table.ingest(batch, opts.partKey === undefined ? { source, unlogged: true } : { source, idempotencyKey: opts.partKey() }).then((r) => {
          releaseBatch(batch);
          return r;
        }),
      ),
    );
  };
  // With part keys, each batch waits for the next one (or the input's end) before it is stored:
  // a read that fails (a truncated .gz) first yields what it decoded, a part shorter than the
  // one a full rerun cuts there, and stored under that part's key it would make the rerun skip
  // the rest of the part as already stored.
  let held: EventBatch | null = null;
  let reading = false;
  try {
    for (;;) {
      reading = true;
      const next = await events.next();
      reading = false;
      if (next.done === true) break;
      const batch = next.value;
      if (opts.stop?.() === true) {
        releaseBatch(batch);
        break; // leaving the loop ends the read (read-events.ts)
      }
      if (opts.partKey === undefined) store(batch);
      else {
        if (held !== null) store(held);
        held = batch;
      }
      if (inFlight.length >= IN_FLIGHT) take(await inFlight.shift()!);
    }
    if (held !== null) store(held);
    held = null;
  } catch (err) {
    if (held !== null) releaseBatch(held);
    if (err !== STOP_READING) {
      // Every call in flight settles before the error propagates: none rejects unhandled.
      const settled = await Promise.allSettled(inFlight);
      totals.brokeOff = reading && settled.every((r) => r.status === 'fulfilled');
      throw err;
    }
  } finally {
    await events.return(undefined); // a stop leaves the read: it closes the input (read-events.ts)
  }
  await settleAll(inFlight);
  for (const p of inFlight) take(await p);
  return totals;
}

/** The FILE argument that reads standard input. */
const STDIN = '-';

/**
 * What a stop destroys standard input with: a read waiting for input that may never come (a
 * producer the signal did not reach) ends at once, and ingestFile takes it as the stop it is.
 */
const STOP_READING = new Error('stopped by a signal');

/** How dead letters, errors and the progress bar name an input. */
function sourceName(file: string): string {
  return file === STDIN ? 'stdin' : basename(file);
}

export async function runIngestCommand(opts: IngestCommandOptions): Promise<IngestTotals> {
  const out = opts.out ?? process.stdout;
  for (const f of opts.files) if (f !== STDIN) checkInputFile(f); // fail early, naming a missing file or a directory
  checkDataDir(opts.dataDir, false);
  const started = performance.now();
  // One table loaded by one process: its tails may take more memory than a server's tables get.
  const store = await openStore(opts.dataDir, { table: { memoryBudgetBytes: bulkLoadMemoryBudgetBytes() } });
  const all: IngestTotals = { accepted: 0, rejected: 0, typeErrors: 0, lines: 0, seconds: 0, errors: [], already: 0 };
  const interrupt = new Interrupt(opts.files.includes(STDIN));
  let brokeOff = null as { file: string; records: number } | null;
  let failure: unknown;
  try {
    const table = await tableFor(store, opts.table, { actorColumn: opts.actor, timeColumn: opts.time });
    const bar = new ProgressBar();
    let partNo = 0;
    const key = opts.idempotencyKey;
    const partKey = key === undefined ? undefined : (): string => `${key}${partNo++ === 0 ? '' : `:${partNo - 1}`}`;
    for (const file of opts.files) {
      const t = newFileTotals();
      try {
        await ingestFile(table, file, {
          format: opts.format,
          partKey,
          onProgress: (events, bytes, total) => bar.update({ events, bytes, totalBytes: total, label: sourceName(file) }),
          stop: () => interrupt.signal !== null,
          totals: t,
        });
      } catch (err) {
        bar.done();
        if (t.brokeOff === true && t.lines > 0) brokeOff = { file: sourceName(file), records: t.lines };
        throw err;
      }
      bar.done();
      all.accepted += t.accepted;
      all.rejected += t.rejected;
      all.typeErrors += t.typeErrors;
      all.lines += t.lines;
      all.already = (all.already ?? 0) + (t.already ?? 0);
      all.errors.push(...t.errors.slice(0, 100 - all.errors.length));
      if (interrupt.signal !== null) {
        all.interrupted = { signal: interrupt.signal, file: sourceName(file), records: t.lines };
        break;
      }
    }
    // Every file read: the table exists even if they held no lines. A bulk load's rows since the
    // last flush are only in memory: this flush makes them durable (or fails the run) before the
    // summary counts them stored.
    await (await table.created()).flush();
  } catch (err) {
    failure = err;
  } finally {
    try {
      await store.close();
    } finally {
      interrupt.remove();
    }
  }
  if (failure !== undefined) {
    // The store closed cleanly (its close flushes), so the records read before the break are stored.
    if (brokeOff !== null) out.write(`the first ${formatCount(brokeOff.records)} records of ${brokeOff.file} are stored (or dead-lettered), none after them\n`);
    throw failure;
  }
  all.seconds = (performance.now() - started) / 1000;
  for (const e of all.errors.slice(0, 5)) out.write(`  ${e.file}:${e.line}: ${e.message}\n`);
  if (all.errors.length > 5) out.write(`  … more in ${join(opts.dataDir, opts.table, 'deadletter.ndjson')}\n`);
  out.write(
    `ingested ${formatCount(all.lines)} lines into "${opts.table}": ${formatCount(all.accepted)} accepted, ` +
      `${formatCount(all.rejected)} rejected, ${formatCount(all.typeErrors)} type errors in ${all.seconds.toFixed(2)} s ` +
      `(${formatCount(all.accepted / Math.max(all.seconds, 1e-9))} events/s)${alreadyNote(all)}\n`,
  );
  if (all.interrupted !== undefined) {
    const { signal, file, records } = all.interrupted;
    out.write(`stopped by ${signal}: the first ${formatCount(records)} records of ${file} are stored (or dead-lettered), none after them\n`);
  }
  return all;
}

/**
 * SIGINT or SIGTERM during a local ingest: the first one stops reading (a file at its next part;
 * standard input at once, destroyed with STOP_READING), and the run stores the parts read before
 * it (a bulk load's flush) before it exits; a second one exits at once, losing what no flush
 * stored yet.
 */
class Interrupt {
  signal: NodeJS.Signals | null = null;
  private readonly onSignal = (signal: NodeJS.Signals): void => {
    if (this.signal !== null) process.exit(128 + osConstants.signals[signal]);
    this.signal = signal;
    process.stderr.write(`\nshoal: ${signal}: storing what was read, then stopping (${signal} again stops at once, losing it)\n`);
    if (this.readsStdin) process.stdin.destroy(STOP_READING);
  };

  constructor(private readonly readsStdin: boolean) {
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  remove(): void {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }
}

/**
 * The table a run stores into, given the --actor and --time asked for (undefined: not asked).
 * An existing one is opened now, and only what was asked for is checked against it (a
 * conflicting --actor or --time fails before anything is read). A new one is created with the
 * first batch, as the HTTP route creates it once a body parsed, so a run that fails before
 * storing anything (an unreadable .gz) leaves no empty table whose actor and time columns a
 * corrected run could not change; its actor column is --actor, else the default of the first
 * input's format as read (`host` for access logs, also when they come on standard input).
 */
async function tableFor(store: Store, name: string, asked: { actorColumn?: string; timeColumn?: string }): Promise<IngestTarget & { created: () => Promise<Table> }> {
  assertTableName(name);
  if (store.has(name) || store.unopenable.has(name)) {
    const table = await store.getOrCreate(name, asked);
    return { actorColumn: table.actorColumn, timeColumn: table.timeColumn, ingest: (b, o) => table.ingest(b, o), columnTypes: () => table.schema, created: async () => table };
  }
  let creating: Promise<Table> | undefined;
  let made: Table | undefined;
  const target: IngestTarget & { created: () => Promise<Table> } = {
    actorColumn: asked.actorColumn,
    timeColumn: asked.timeColumn ?? 'time',
    formatSeen: (format) => {
      target.actorColumn ??= defaultActorColumn(format);
    },
    // Every call waits on the one creation; its callbacks, and so the calls to ingest, keep call order.
    ingest: (b, o) => target.created().then((t) => t.ingest(b, o)),
    // Created with the first batch: a later file of the run reads CSV by the types the earlier ones gave.
    columnTypes: () => made?.schema,
    created: () =>
      (creating ??= store.getOrCreate(name, { actorColumn: target.actorColumn ?? defaultActorColumn(undefined), timeColumn: target.timeColumn }).then((t) => (made = t))),
  };
  return target;
}

/** The summary's note on parts an earlier run with the same idempotency key had stored. */
export function alreadyNote(t: IngestTotals): string {
  return (t.already ?? 0) > 0 ? `; ${formatCount(t.already!)} of the accepted were stored by an earlier run with this idempotency key` : '';
}
