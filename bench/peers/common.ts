/**
 * What the peer engines (DuckDB, chDB) and the Shoal runner share: result shapes, the event schema
 * of bench/generator.ts as typed columns, on-disk size measurement, and timed child processes.
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';

/** The repository root (children run here, so `--import tsx` resolves), also from the compiled bench in dist/. */
export const REPO = repoRoot(resolve(import.meta.dirname, '..', '..'));

function repoRoot(up: string): string {
  return basename(up) === 'dist' && existsSync(join(up, '..', 'package.json')) ? resolve(up, '..') : up;
}

let built = false;

/**
 * Compiles the repository into dist/ (`tsc -p tsconfig.build.json`, as `npm run build`), once
 * per harness process, so that Shoal measured from dist/ is the code of the sources.
 */
export function buildShoal(): void {
  if (built) return;
  execFileSync(process.execPath, [join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: REPO, stdio: 'inherit' });
  built = true;
}

/**
 * Node arguments that run `rel` (a .ts script of Shoal's side, from the repository root) as
 * users run Shoal: compiled into dist/ (what `shoal` and `npm start` run; see buildShoal), not
 * through tsx. The same engine transpiled by tsx (esbuild) took ~13% more CPU to ingest 10M
 * events and 25–35% more a hot sessions query at 1B (README, "Benchmarks").
 */
export function shoalScript(rel: string): string[] {
  buildShoal();
  return [join(REPO, 'dist', rel.replace(/\.ts$/, '.js'))];
}

/** The outcome of loading one file into one engine. */
export interface LoadResult {
  engine: string;
  events: number;
  /** Time of the load itself (parse, insert, sort), in seconds. */
  seconds: number;
  /** Time of the step after the load that settles storage (CHECKPOINT, OPTIMIZE FINAL), if any. */
  finishSeconds: number;
  /** The engine's own data size after the load (see `details` for the other measures). */
  bytesOnDisk: number;
  details: Record<string, number | string>;
}

/** The outcome of one query: rows as plain objects, and the wall time of the call. */
export interface QueryResult {
  rows: Record<string, unknown>[];
  ms: number;
}

export type TimeFormat = 'iso' | 'ms';

/** The generator's `props` keys with their SQL type family (string, integer or float). */
export const PROPS_FIELDS: readonly [name: string, kind: 'string' | 'int' | 'float'][] = [
  ['plan', 'string'],
  ['referrer', 'string'],
  ['method', 'string'],
  ['setting', 'string'],
  ['channel', 'string'],
  ['results', 'int'],
  ['item_id', 'string'],
  ['price', 'float'],
  ['items', 'int'],
  ['amount', 'float'],
  ['currency', 'string'],
];

/** Low-cardinality string columns (tens of distinct values). */
export const LOW_CARDINALITY = ['event', 'path', 'country', 'os', 'device', 'app_version'] as const;

/** Whether the file's `time` values are ISO strings or epoch milliseconds, from its first line. */
export function detectTimeFormat(file: string): TimeFormat {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(4096);
    const n = readSync(fd, buf, 0, buf.length, 0);
    const first = buf.subarray(0, n).toString('utf8').split('\n')[0];
    return /"time":\s*"/.test(first) ? 'iso' : 'ms';
  } finally {
    closeSync(fd);
  }
}

/**
 * Sum of file sizes under `dir`, recursively, skipping files for which `skip(name)` is true. A
 * file or directory that goes while it is read counts 0: chDB's background merges remove parts
 * while a load is measured (a 10M-event `--runs 3` lost chDB's third run to one).
 */
export function directoryBytes(dir: string, skip: (name: string) => boolean = () => false): number {
  let total = 0;
  for (const entry of gone(() => readdirSync(dir, { withFileTypes: true }), [])) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) total += directoryBytes(p, skip);
    else if (entry.isFile() && !skip(entry.name)) total += gone(() => statSync(p).size, 0);
  }
  return total;
}

/** `read()`, or `absent` when what it reads no longer exists (ENOENT). */
function gone<T>(read: () => T, absent: T): T {
  try {
    return read();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return absent;
    throw err;
  }
}

/** Size of a file, or 0 when it does not exist. */
export function fileBytes(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** SQL string literal with single quotes doubled. */
export function sqlString(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** What a finished child process left. */
export interface ChildRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  seconds: number;
  /** Peak resident set of the child in bytes, when /usr/bin/time is available to measure it. */
  maxRssBytes: number | null;
}

const TIME_BIN = '/usr/bin/time';
const RSS_MARK = 'SHOAL_BENCH_MAXRSS_KB=';

/** Runs `node ...args` in the repository, collecting output; `echo` forwards stderr as it comes; `env` adds variables. */
export function runNode(args: string[], opts: { echo?: boolean; env?: Record<string, string> } = {}): Promise<ChildRun> {
  const started = performance.now();
  const timed = existsSync(TIME_BIN);
  const [cmd, argv] = timed ? [TIME_BIN, ['-f', `${RSS_MARK}%M`, process.execPath, ...args]] : [process.execPath, args];
  return new Promise((done, fail) => {
    const env = opts.env === undefined ? process.env : { ...process.env, ...opts.env };
    const child = spawn(cmd, argv, { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (opts.echo && !d.toString().startsWith(RSS_MARK)) process.stderr.write(d);
    });
    child.on('error', fail);
    child.on('close', (code, signal) => {
      const seconds = (performance.now() - started) / 1000;
      const at = stderr.lastIndexOf(RSS_MARK);
      const maxRssBytes = at < 0 ? null : Number.parseInt(stderr.slice(at + RSS_MARK.length), 10) * 1024;
      if (at >= 0) stderr = stderr.slice(0, at);
      // /usr/bin/time reports a child's non-zero exit on its own line; the exit code says it too
      stderr = stderr.replace(/^Command exited with non-zero status \d+\n?/m, '');
      done({ code, signal, stdout, stderr, seconds, maxRssBytes });
    });
  });
}
