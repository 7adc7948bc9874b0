/**
 * The scale benchmark's peer comparison end to end, small (two chunks of 500 events, one query):
 * a peer whose load fails is reported in the state and left out, the other peer is loaded with
 * every event of the subset and queried; a resume with --retry-peers loads the failed peer only,
 * and one more resume runs no step at all.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { REPO } from '../../bench/peers/common.js';
import { parseOptions, type Options } from '../../bench/scale/options.js';
import { runPeers, type PeerHooks } from '../../bench/scale/peer-run.js';
import { subsetTarget } from '../../bench/scale/peer-steps.js';
import { planRun, subsetChunks } from '../../bench/scale/plan.js';
import { newState } from '../../bench/scale/state.js';

const work = mkdtempSync(join(tmpdir(), 'shoal-scale-peers-run-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function options(extra: string[] = []): Options {
  const o = parseOptions(['--events', '1500', '--chunk-events', '500', '--peer-events', '1000', '--queries', 'count_by_event', '--hot-runs', '1', '--gen-workers', '2', '--work', work, ...extra], REPO);
  if (o === 'help') throw new Error('unexpected help');
  return o;
}

function hooks(lines: string[]): PeerHooks {
  return { log: (m) => lines.push(m), noteStep: () => {}, save: () => {}, report: () => {}, dropCaches: () => {}, checkDisk: () => {} };
}

it('reports a failed peer and goes on, retries it on request, and resumes without repeating steps', async () => {
  const o = options();
  const plan = planRun(o.config.events, o.config.chunkEvents, o.config.seed, o.config.usersPerEvent);
  const sub = subsetChunks(plan, o.peerEvents);
  expect(sub.chunks.map((c) => c.index)).toEqual([0, 1]);
  const dir = join(work, 'subset');
  // a directory where DuckDB's database file belongs: every DuckDB child fails to open it
  mkdirSync(subsetTarget(dir, 'duckdb'), { recursive: true });
  const state = newState(o.config);
  const first: string[] = [];
  await runPeers(state, plan, sub, dir, o, hooks(first));
  const peers = state.peers!;
  expect(peers.loads.duckdb!.error).toMatch(/^appending chunk 0: duckdb append exited with 1/);
  expect(peers.queries.duckdb).toBeUndefined();
  expect(peers.loads.chdb!.chunksDone).toEqual([0, 1]);
  expect(peers.loads.chdb!.finish!.events).toBe(1000);
  const chdbAnswer = peers.queries.chdb!.count_by_event;
  expect(chdbAnswer.error).toBeUndefined();
  expect(chdbAnswer.rows!.reduce((s, r) => s + Number(r[1]), 0)).toBe(1000);
  // no chunk file is left behind
  expect(readdirSync(dir).filter((f) => f.endsWith('.ndjson'))).toEqual([]);

  rmSync(subsetTarget(dir, 'duckdb'), { recursive: true });
  const second: string[] = [];
  await runPeers(state, plan, sub, dir, options(['--retry-peers']), hooks(second));
  expect(state.peers!.loads.duckdb!.error).toBeUndefined();
  expect(state.peers!.loads.duckdb!.finish!.events).toBe(1000);
  // the same counts by event as chDB's (rows in any order)
  const sorted = (rows: unknown[][] | undefined): string[] => (rows ?? []).map((r) => JSON.stringify(r)).sort();
  expect(sorted(state.peers!.queries.duckdb!.count_by_event.rows)).toEqual(sorted(chdbAnswer.rows));
  expect(second.filter((l) => l.startsWith('chdb'))).toEqual([]);

  const third: string[] = [];
  await runPeers(state, plan, sub, dir, o, hooks(third));
  expect(third.filter((l) => /^(duckdb|chdb)/.test(l))).toEqual([]);
}, 100_000);
