/**
 * Shoal as a benchmark contestant, through its command line in a child process:
 * `node --import tsx server/cli.ts ingest FILE --table events --data DIR`. The result's `seconds`
 * is the time on Shoal's summary line and `details.wallSeconds` the whole child process; bytes on
 * disk are summed under DIR/events, without write-ahead logs.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { directoryBytes, runNode, shoalScript, type LoadResult } from './common.js';


/** Bytes Shoal keeps for a table: every file under the table directory except WAL files. */
export function shoalTableBytes(tableDir: string): number {
  return existsSync(tableDir) ? directoryBytes(tableDir, (name) => name.endsWith('.wal')) : 0;
}

/** Parses Shoal's "ingested N lines ...: A accepted, R rejected, T type errors in S s" line. */
export function parseShoalSummary(text: string): { lines: number; accepted: number; rejected: number; seconds: number } | null {
  const m = /ingested ([\d,]+) lines.*?: ([\d,]+) accepted, ([\d,]+) rejected.*? in ([\d.]+) s/.exec(text);
  if (m === null) return null;
  const n = (s: string): number => Number(s.replace(/,/g, ''));
  return { lines: n(m[1]), accepted: n(m[2]), rejected: n(m[3]), seconds: Number(m[4]) };
}

/**
 * Ingests `file` into table `events` of the data directory `dataDir` (which should be empty) with
 * the Shoal CLI. Throws with the child's output when the CLI is missing or fails.
 */
export async function loadIntoShoal(file: string, dataDir: string, opts: { echo?: boolean } = {}): Promise<LoadResult> {
  const run = await runNode([...shoalScript('server/cli.ts'), 'ingest', resolve(file), '--table', 'events', '--data', resolve(dataDir)], opts);
  const output = `${run.stdout}\n${run.stderr}`;
  if (run.code !== 0) {
    const lines = output.trim().split('\n');
    const cause = lines.find((l) => /error|shoal:/i.test(l)) ?? lines[lines.length - 1] ?? '';
    throw new Error(`Shoal CLI exited with ${run.code ?? run.signal}: ${cause.trim()}\n${lines.slice(-15).join('\n')}`);
  }
  const summary = parseShoalSummary(output);
  if (summary === null) throw new Error(`Shoal CLI printed no summary line:\n${output.trim().split('\n').slice(-15).join('\n')}`);
  const tableDir = join(resolve(dataDir), 'events');
  return {
    engine: 'shoal',
    events: summary.accepted,
    seconds: summary.seconds,
    finishSeconds: 0,
    bytesOnDisk: shoalTableBytes(tableDir),
    details: {
      wallSeconds: run.seconds,
      maxRssBytes: run.maxRssBytes ?? NaN,
      rejected: summary.rejected,
      walBytes: existsSync(tableDir) ? directoryBytes(tableDir) - shoalTableBytes(tableDir) : 0,
      summary: output.split('\n').find((l) => l.includes('ingested')) ?? '',
    },
  };
}
