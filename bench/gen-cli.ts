/**
 * Writes a generated event file:
 *   npx tsx bench/gen-cli.ts --events 10e6 --out bench/out/events-10m.ndjson [--seed 1] [--shuffle]
 *     [--format ndjson|csv] [--users N] [--days 30] [--time iso|ms] [--end ISO|now]
 *     [--actor-shard K]
 * `--actor-shard K` keeps only the users a table routes to shard K of 16, with all their events:
 * one shard of the dataset `--events` describes (about 1/16 of its events), e.g. one shard of a
 * billion events for per-shard query costs without generating and ingesting the rest.
 * Progress goes to stderr, a one-line summary to stdout.
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_SHARDS as SHARDS } from '../engine/storage/store.js';
import { writeEvents, type WriteOptions } from './generator.js';

const USAGE = `Usage: npx tsx bench/gen-cli.ts --events N --out FILE [--seed 1] [--shuffle] [--format ndjson|csv]
       [--users N] [--days 30] [--time iso|ms] [--end ISO|now]
       [--actor-shard K]  (only the users of shard K of 16: one shard of that dataset)`;

/** Parses "10e6", "1_000_000", "2.5M", "100k" as a non-negative integer. */
export function parseCount(text: string): number {
  const m = /^([\d._]+(?:e\d+)?)([kKmMgG]?)$/.exec(text.trim());
  if (m === null) throw new Error(`not a count: ${text}`);
  const scale = { '': 1, k: 1e3, m: 1e6, g: 1e9 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g'];
  const n = Math.round(Number(m[1].replace(/_/g, '')) * scale);
  if (!Number.isFinite(n) || n < 0) throw new Error(`not a count: ${text}`);
  return n;
}

function parseEnd(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (text === 'now') return Date.now();
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new Error(`--end: not a date: ${text}`);
  return ms;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      events: { type: 'string' },
      out: { type: 'string' },
      seed: { type: 'string', default: '1' },
      shuffle: { type: 'boolean', default: false },
      format: { type: 'string', default: 'ndjson' },
      users: { type: 'string' },
      days: { type: 'string' },
      time: { type: 'string', default: 'iso' },
      end: { type: 'string' },
      'actor-shard': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || values.events === undefined || values.out === undefined) {
    process.stderr.write(USAGE + '\n');
    process.exit(values.help ? 0 : 2);
  }
  if (values.format !== 'ndjson' && values.format !== 'csv') throw new Error(`--format must be ndjson or csv`);
  if (values.time !== 'iso' && values.time !== 'ms') throw new Error(`--time must be iso or ms`);
  const events = parseCount(values.events);
  const shard = values['actor-shard'] === undefined ? undefined : Number(values['actor-shard']);
  if (shard !== undefined && !(Number.isInteger(shard) && shard >= 0 && shard < SHARDS)) throw new Error(`--actor-shard must be an integer from 0 to ${SHARDS - 1}`);
  const opts: WriteOptions = {
    events,
    seed: Number(values.seed),
    shuffle: values.shuffle,
    format: values.format,
    users: values.users === undefined ? undefined : parseCount(values.users),
    days: values.days === undefined ? undefined : Number(values.days),
    timeFormat: values.time,
    endMs: parseEnd(values.end),
    actorShard: shard === undefined ? undefined : { index: shard, count: SHARDS },
    onProgress: (n) => {
      if (process.stderr.isTTY) process.stderr.write(`\r${((100 * n) / Math.max(events, 1)).toFixed(1)}% ${n.toLocaleString('en-US')} events`);
      else if (n % 1_000_000 === 0) process.stderr.write(`${n.toLocaleString('en-US')} events\n`);
    },
  };
  mkdirSync(dirname(values.out), { recursive: true });
  const r = await writeEvents(values.out, opts);
  if (process.stderr.isTTY) process.stderr.write('\n');
  process.stdout.write(
    `wrote ${r.events.toLocaleString('en-US')} events, ${(r.bytes / 1e6).toFixed(1)} MB ` +
      `(${(r.bytes / Math.max(r.events, 1)).toFixed(1)} B/event) to ${values.out} in ${r.seconds.toFixed(2)} s ` +
      `(${Math.round(r.events / r.seconds).toLocaleString('en-US')} events/s)\n`,
  );
}

// run only as a script: ingest-compare imports parseCount from here
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`gen-cli: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
}
