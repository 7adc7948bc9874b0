/**
 * The loaded stores the query comparisons read, cached under a work directory (bench/out/…):
 * `shoal/` (a Shoal data directory, ingested through the CLI, flushed, fully compacted and closed,
 * so durable), `duckdb.db` (sorted by user_id, time) and `chdb/` (MergeTree ORDER BY
 * (user_id, time), merged to one part). Each store has a marker `<engine>.ready.json` naming the
 * input it holds; a store whose marker matches the input is reused, anything else is reloaded.
 * Every load runs in its own child process, one engine at a time.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runNode, shoalScript } from './common.js';
import type { FileMeta } from './input.js';
import { loadIntoShoal } from './shoal.js';

export type Engine = 'shoal' | 'duckdb' | 'chdb';
export const ENGINES: Engine[] = ['shoal', 'duckdb', 'chdb'];
export const PEERS: Engine[] = ['duckdb', 'chdb'];

/** Where an engine's store lives in `workDir`. */
export function storeTarget(workDir: string, engine: Engine): string {
  return join(workDir, engine === 'duckdb' ? 'duckdb.db' : engine);
}

interface Marker {
  input: { events: number; seed: number; bytes: number };
  prepared: Record<string, unknown>;
}

const sameInput = (m: Marker, meta: FileMeta): boolean => m.input.events === meta.events && m.input.seed === meta.seed && m.input.bytes === meta.bytes;

/** Runs bench/peers/prepare-cli.ts (compiled, see shoalScript) with `args`; its last output line. */
async function childJson(args: string[]): Promise<Record<string, unknown>> {
  const run = await runNode([...shoalScript('bench/peers/prepare-cli.ts'), ...args]);
  if (run.code !== 0) throw new Error(`prepare-cli ${args[0]} exited with ${run.code ?? run.signal}:\n${run.stderr.trim().split('\n').slice(-10).join('\n')}`);
  return { ...(JSON.parse(run.stdout.trim().split('\n').pop()!) as Record<string, unknown>), wallSeconds: run.seconds, maxRssBytes: run.maxRssBytes };
}

async function prepare(engine: Engine, file: string, target: string): Promise<Record<string, unknown>> {
  if (engine !== 'shoal') return childJson([engine, file, target]);
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  const load = await loadIntoShoal(file, target);
  const compact = await childJson(['shoal-compact', target]);
  return { ...load, compact };
}

/**
 * Makes sure each engine's store in `workDir` holds `file`, loading the ones that do not.
 * Returns what each preparation reported (from the marker when reused).
 */
export async function ensureStores(file: string, meta: FileMeta, workDir: string, engines: Engine[], log: (m: string) => void): Promise<Record<string, Record<string, unknown>>> {
  mkdirSync(workDir, { recursive: true });
  const out: Record<string, Record<string, unknown>> = {};
  for (const engine of engines) {
    const markerFile = join(workDir, `${engine}.ready.json`);
    const target = storeTarget(workDir, engine);
    if (existsSync(markerFile) && existsSync(target)) {
      const marker = JSON.parse(readFileSync(markerFile, 'utf8')) as Marker;
      if (sameInput(marker, meta)) {
        log(`${engine}: reusing the loaded store ${target}`);
        out[engine] = { ...marker.prepared, reused: true };
        continue;
      }
    }
    rmSync(markerFile, { force: true });
    log(`${engine}: loading ${meta.events.toLocaleString('en-US')} events ...`);
    const prepared = await prepare(engine, file, target);
    const marker: Marker = { input: { events: meta.events, seed: meta.seed, bytes: meta.bytes }, prepared };
    writeFileSync(markerFile, JSON.stringify(marker, null, 2) + '\n');
    log(`${engine}: loaded in ${Number(prepared.wallSeconds ?? prepared.seconds).toFixed(1)} s`);
    out[engine] = prepared;
  }
  return out;
}
