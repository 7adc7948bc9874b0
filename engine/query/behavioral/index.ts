/**
 * Behavioral queries — `funnel`, `sessions`, `retention`, `paths` — answered in one pass per
 * shard over events ordered by (actor, time, arrival), with no joins: an actor lives in one
 * shard, so per-actor state never crosses shards and per-shard partials just add up.
 * The engine's public functions (engine/query/index.ts) dispatch here by kind:
 *
 *   validateBehavioral(json, schema)   → BehavioralQuery  (coordinator)
 *   createBehavioralPlan(query, …)     → BehavioralPlan   (coordinator; plain data)
 *   runBehavioralShard(shard, plan)    → BehavioralPartial (per shard, any thread)
 *   mergeBehavioralPartials(partials)  → BehavioralPartial (associative, any thread)
 *   finalizeBehavioral(partial, plan)  → QueryResult      (coordinator)
 *
 * Query and result shapes (names in results are fixed; see each finalize-*.ts):
 *
 * funnel  {"kind":"funnel","steps":[f1,…,fN] (2–20),"window":"1d","mode":"ordered"|"strict"|"any",
 *          "exclude":[{"filter":f,"after":i,"before":j}],"groupBy":[…],"bucket":"1d","tz":…,"limit":n,"other":bool}
 *   → columns [$bucket]? groupBy… then per step k: step{k}, step{k}_conversion, (k≥2) step{k}_median_ms, step{k}_p90_ms
 * sessions {"kind":"sessions","gap":"30m","maxDuration":"24h","measures":["count","uniq($actor)","avg(duration)",
 *          "p90(duration)","sum(events)",…],"groupBy":[…],"bucket":"1h","orderBy":…,"limit":n,"other":bool}
 *   → columns like an aggregate: [$bucket]? groupBy… measures as written
 * retention {"kind":"retention","start":f,"return":f?,"period":"1d"|"1w"|"1mo","periods":1–90,"groupBy":[…],"limit":n}
 *   → columns $cohort, groupBy…, cohort_size, period0 … period{periods}
 * paths   {"kind":"paths","node":"event","start":f?,"direction":"after"|"before","depth":1–10,"gap":"30m","limit":n}
 *   → columns node0 … node{depth}, sessions; plus "edges": [[depth, from, to, sessions], …]
 */
import { emptyState } from '../measure-state.js';
import type { GroupSet, ScanStats } from '../partial.js';
import type { QueryResult } from '../result.js';
import type { ShardSnapshot } from '../source.js';
import { finalizeFunnel } from './finalize-funnel.js';
import { finalizePaths } from './finalize-paths.js';
import { finalizeRetention } from './finalize-retention.js';
import { funnelShard } from './funnel.js';
import type { BehavioralPartial } from './partial.js';
import { pathsShard } from './paths.js';
import type { BehavioralPlan } from './plan.js';
import { retentionShard } from './retention.js';
import { sessionsShard } from './sessions.js';
import { finalizeAggregate } from '../finalize.js';

export { validateBehavioral, BEHAVIORAL_KINDS } from './validate-kinds.js';
export { createBehavioralPlan, type BehavioralPlan, type FunnelPlan, type SessionsPlan, type RetentionPlan, type PathsPlan } from './plan.js';
export { mergeBehavioralPartials, type BehavioralPartial, type FunnelPartial, type SessionsPartial, type RetentionPartial, type PathsPartial } from './partial.js';
export type { BehavioralQuery, FunnelQuery, SessionsQuery, RetentionQuery, PathsQuery } from './query-types.js';
export type { PathsResult } from './finalize-paths.js';

/** Runs a behavioral plan over one whole shard. */
export function runBehavioralShard(shard: ShardSnapshot, plan: BehavioralPlan, signal?: AbortSignal): BehavioralPartial {
  switch (plan.kind) {
    case 'funnel': return funnelShard(shard, plan, signal);
    case 'sessions': return sessionsShard(shard, plan, signal);
    case 'retention': return retentionShard(shard, plan, signal);
    case 'paths': return pathsShard(shard, plan, signal);
  }
}

function noStats(): ScanStats {
  return { rowsScanned: 0, segmentsScanned: 0, segmentsSkipped: 0 };
}

/** A partial over no shards. */
export function emptyBehavioralPartial(plan: BehavioralPlan): BehavioralPartial {
  const none = (width: number, states: number): GroupSet => ({ groups: 0, keys: Array.from({ length: width }, () => []), states: Array.from({ length: states }, () => emptyState('count', 0)) });
  switch (plan.kind) {
    case 'funnel': {
      const steps = plan.query.steps.length;
      const set: GroupSet = none((plan.bucket === null ? 0 : 1) + plan.query.groupBy.length, steps);
      for (let k = 2; k <= steps; k++) set.states.push(emptyState('sketch', 0));
      return { kind: 'funnel', shards: [], memoryBytes: 0, main: set, stats: noStats() };
    }
    case 'retention':
      return { kind: 'retention', shards: [], memoryBytes: 0, main: none(1 + plan.query.groupBy.length, plan.query.periods + 2), stats: noStats() };
    case 'paths':
      return { kind: 'paths', shards: [], memoryBytes: 0, depth: plan.query.depth, nodes: [null], paths: { n: 0, codes: new Int32Array(0), counts: new Float64Array(0) }, edges: { n: 0, codes: new Int32Array(0), counts: new Float64Array(0) }, stats: noStats() };
    case 'sessions': {
      const a = plan.aggregate;
      const width = (a.group.bucket === null ? 0 : 1) + a.group.keys.length;
      return { kind: 'sessions', shards: [], stats: noStats(), aggregate: {
        kind: 'aggregate', shards: [], actorKeyed: false, memoryBytes: 0, stats: noStats(),
        main: { groups: 0, keys: Array.from({ length: width }, () => []), states: a.measures.map((n) => emptyState(n.state, 0)) },
        totals: a.totals === null ? null : { groups: 0, keys: a.group.keys.map(() => []), states: a.totals.map((n) => emptyState(n.state, 0)) },
      } };
    }
  }
}

/** Turns the merged partial of all shards into the query result. */
export function finalizeBehavioral(partial: BehavioralPartial, plan: BehavioralPlan): QueryResult {
  switch (plan.kind) {
    case 'funnel': return finalizeFunnel(partial as never, plan);
    case 'retention': return finalizeRetention(partial as never, plan);
    case 'paths': return finalizePaths(partial as never, plan);
    case 'sessions': {
      const p = partial as Extract<BehavioralPartial, { kind: 'sessions' }>;
      const r = finalizeAggregate(p.aggregate, plan.aggregate);
      return { ...r, stats: { ...p.stats, elapsedMs: 0 } };
    }
  }
}
