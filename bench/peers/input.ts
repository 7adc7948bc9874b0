/**
 * The generated input file shared by the comparison benches: one seeded, shuffled NDJSON file per
 * event count under bench/out/ (gitignored), reused while its sidecar `<file>.meta.json` records
 * the same events, seed, order and size. The naming and sidecar match bench/ingest-compare.ts, so
 * the ingest and query comparisons reuse each other's files.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { writeNdjson } from '../generator.js';
import { REPO } from './common.js';

export interface FileMeta {
  events: number;
  seed: number;
  shuffled: boolean;
  timeFormat: 'iso' | 'ms';
  bytes: number;
}

/** "1m", "10m", "250k", "1234" for file names. */
export function countLabel(n: number): string {
  if (n >= 1e6 && n % 1e6 === 0) return `${n / 1e6}m`;
  if (n >= 1e3 && n % 1e3 === 0) return `${n / 1e3}k`;
  return String(n);
}

/** The default input path for `events` generated with `seed` (shuffled, ISO times). */
export function defaultInputFile(events: number, seed: number): string {
  return join(REPO, 'bench', 'out', `events-${countLabel(events)}-s${seed}.ndjson`);
}

/** The sidecar of `file` when it exists and still describes the file, else null. */
export function readInputMeta(file: string): FileMeta | null {
  const sidecar = `${file}.meta.json`;
  if (!existsSync(file) || !existsSync(sidecar)) return null;
  const meta = JSON.parse(readFileSync(sidecar, 'utf8')) as FileMeta;
  return meta.bytes === statSync(file).size ? meta : null;
}

/** Generates `file` (shuffled, ISO times) unless it exists with a sidecar recording the same parameters. */
export async function ensureInput(file: string, events: number, seed: number, log: (m: string) => void): Promise<FileMeta> {
  const meta = readInputMeta(file);
  if (meta !== null && meta.events === events && meta.seed === seed && meta.shuffled && meta.timeFormat === 'iso') {
    log(`reusing ${relative(REPO, file)} (${(meta.bytes / 1e6).toFixed(0)} MB)`);
    return meta;
  }
  mkdirSync(dirname(file), { recursive: true });
  log(`generating ${events.toLocaleString('en-US')} events into ${relative(REPO, file)} ...`);
  const r = await writeNdjson(file, {
    events,
    seed,
    shuffle: true,
    timeFormat: 'iso',
    onProgress: (n) => n % 5_000_000 === 0 && n > 0 && log(`  ${n.toLocaleString('en-US')}`),
  });
  log(`  ${(r.bytes / 1e6).toFixed(0)} MB in ${r.seconds.toFixed(1)} s`);
  const fresh: FileMeta = { events, seed, shuffled: true, timeFormat: 'iso', bytes: r.bytes };
  writeFileSync(`${file}.meta.json`, JSON.stringify(fresh, null, 2) + '\n');
  return fresh;
}
