/** `generateEvents`: the lazy, user-by-user event stream, with fast ISO-8601 time formatting. */
import { shardOf } from '../../engine/storage/hash.js';
import { Rng } from './rng.js';
import { DAY_MS } from './vocabulary.js';
import { planTimeline, UserSim, materialize, userEventCounts, type GeneratedEvent } from './user-model.js';

export interface GenerateOptions {
  events: number;
  /** Default: events / 100 (at least 1). */
  users?: number;
  /** Length of the time window, ending at endMs. Default 30. */
  days?: number;
  /** Exclusive end of the window. Default 2026-11-01T00:00:00Z, so benchmarks are reproducible. */
  endMs?: number;
  seed?: number;
  timeFormat?: 'iso' | 'ms';
  /**
   * Only the users a table with `count` shards routes to shard `index` (hash.ts), each with
   * the events it has in the full population: one shard's share of a big dataset, for
   * measuring per-shard work at a scale too big to generate and ingest whole.
   */
  actorShard?: { index: number; count: number };
}

export const DEFAULT_END_MS = Date.UTC(2026, 10, 1);

const pad2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const pad3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

/** ISO-8601 formatting with the date part cached per day (events come in time order per user). */
export class IsoFormatter {
  private day = NaN;
  private prefix = '';
  format(ms: number): string {
    const day = Math.floor(ms / DAY_MS);
    if (day !== this.day) {
      this.day = day;
      this.prefix = new Date(day * DAY_MS).toISOString().slice(0, 11);
    }
    let rest = ms - day * DAY_MS;
    const h = Math.floor(rest / 3_600_000);
    rest -= h * 3_600_000;
    const m = Math.floor(rest / 60_000);
    rest -= m * 60_000;
    const s = Math.floor(rest / 1000);
    return `${this.prefix}${pad2[h]}:${pad2[m]}:${pad2[s]}.${pad3[rest - s * 1000]}Z`;
  }
}

/**
 * Generates `opts.events` events, user by user, each user's events in time order.
 * Lazy: memory holds one user's timeline at a time, so any count can be streamed.
 */
export function* generateEvents(opts: GenerateOptions): Generator<GeneratedEvent> {
  const events = Math.floor(opts.events);
  if (!(events >= 0)) throw new RangeError(`events must be a non-negative number, got ${opts.events}`);
  const users = Math.max(1, Math.floor(opts.users ?? events / 100));
  const days = opts.days ?? 30;
  const endMs = Math.floor(opts.endMs ?? DEFAULT_END_MS);
  const seed = opts.seed ?? 1;
  const spanMs = Math.round(days * DAY_MS);
  const startMs = endMs - spanMs;
  const iso = opts.timeFormat !== 'ms' ? new IsoFormatter() : null;
  const idWidth = Math.max(6, String(users).length);
  const counts = userEventCounts(events, users, seed);

  for (let u = 0; u < users; u++) {
    const count = counts[u];
    if (count === 0) continue;
    const userId = `u${String(u + 1).padStart(idWidth, '0')}`;
    if (opts.actorShard !== undefined && shardOf(userId, opts.actorShard.count) !== opts.actorShard.index) continue;
    const rng = new Rng(seed, u, 0x7e);
    const isNew = rng.chance(0.25);
    const userStartMs = isNew ? startMs + Math.floor(rng.next() * 0.9 * spanMs) : startMs;
    const sim = new UserSim(rng, startMs, spanMs, isNew);
    const timeline = planTimeline(rng, count, endMs - userStartMs);
    let timeMs = userStartMs + timeline.idleMs[0];
    let e = 0;
    for (let s = 0; s < timeline.sessionLengths.length; s++) {
      sim.planSession(s === 0);
      const sessionId = sim.app ? `s${(rng.u32() >>> 0).toString(16).padStart(8, '0')}` : undefined;
      for (let j = 0; j < timeline.sessionLengths[s]; j++, e++) {
        if (j > 0) timeMs += timeline.gapMs[e];
        if (sim.queue.length === 0) sim.planJourney();
        const q = sim.queue.shift()!;
        const t = Math.min(Math.floor(timeMs), endMs - 1);
        yield materialize(sim, rng, q, userId, iso ? iso.format(t) : t, t, sessionId);
        if (q.event === 'error' && q.server) sim.queue.length = 0;
      }
      timeMs += timeline.idleMs[s + 1];
    }
  }
}
