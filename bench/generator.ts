/**
 * Seeded, deterministic generator of realistic product events, for benchmarks, tests and the demo.
 *
 * Model, per user (each user has its own PRNG stream derived from (seed, user index), so a user's
 * events do not depend on any other user's):
 * - activity: an i.i.d. truncated-Pareto weight; the requested event count is split over users in
 *   proportion (exactly, largest users first get the rounding remainder), giving a few heavy users
 *   and a long tail;
 * - attributes: country (30, skewed), device and os (correlated with country), plan, and an app
 *   version that changes over the window as releases roll out (web users report "web");
 * - time: the user's events are cut into sessions (geometric-ish lengths); events inside a session
 *   are seconds to minutes apart (log-normal), sessions are separated by the remaining idle time
 *   spread at random (hours to days for typical users);
 * - flows: each session plays journeys page_view → search → view_item → add_to_cart → checkout →
 *   purchase with drop-off at each step (so funnel step counts are monotone by construction), with
 *   client-side noise events, logins, signups, shares and server errors that end the journey.
 *
 * Output is ordered by user, then time. `writeEvents` writes NDJSON or CSV with buffered
 * synchronous writes and can shuffle globally with bounded memory: lines are dealt at random into
 * temporary bucket files of ~`shuffleWindow` lines, each then shuffled in memory (a uniform
 * permutation: Rao–Sandelius). Same options → byte-identical output.
 */
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

// ───────────────────────────── PRNG ─────────────────────────────

/** sfc32: a small, fast 32-bit PRNG with 128 bits of state. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(...seeds: number[]) {
    // splitmix32 over the seed words fills the state, so nearby seeds give unrelated streams
    let h = 0x9e3779b9;
    const mix = (v: number): number => {
      h = (h + (v | 0) + 0x9e3779b9) | 0;
      let z = h;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    for (const s of seeds) mix(s);
    this.a = mix(1);
    this.b = mix(2);
    this.c = mix(3);
    this.d = mix(4);
    for (let i = 0; i < 12; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  /** Exponential with mean 1. */
  exp(): number {
    return -Math.log(1 - this.next());
  }

  normal(): number {
    return Math.sqrt(-2 * Math.log(1 - this.next())) * Math.cos(2 * Math.PI * this.next());
  }

  /** Log-normal with the given median and shape. */
  logNormal(median: number, sigma: number): number {
    return median * Math.exp(sigma * this.normal());
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
}

/** A categorical distribution sampled by cumulative weights. */
class Weighted<T> {
  private readonly cumulative: Float64Array;
  constructor(
    readonly items: readonly T[],
    weights: readonly number[],
  ) {
    this.cumulative = new Float64Array(weights.length);
    let sum = 0;
    weights.forEach((w, i) => (this.cumulative[i] = sum += w));
    for (let i = 0; i < weights.length; i++) this.cumulative[i] /= sum;
  }
  sample(rng: Rng): T {
    const u = rng.next();
    let i = 0;
    while (i < this.cumulative.length - 1 && this.cumulative[i] <= u) i++;
    return this.items[i];
  }
}

// ───────────────────────────── vocabulary ─────────────────────────────

interface CountryInfo {
  code: string;
  weight: number;
  /** Latency multiplier (distance to the servers, networks). */
  slow: number;
  mobileShare: number;
  iosShare: number;
  currency: string;
}

// prettier-ignore
const COUNTRIES: CountryInfo[] = ([
  ['US', 24, 1.0, 0.55, 0.55, 'USD'], ['IN', 11, 1.9, 0.8, 0.05, 'INR'], ['BR', 7, 1.6, 0.7, 0.15, 'BRL'],
  ['GB', 6, 1.1, 0.55, 0.5, 'GBP'], ['DE', 5, 1.1, 0.5, 0.35, 'EUR'], ['FR', 4, 1.1, 0.5, 0.35, 'EUR'],
  ['JP', 4, 1.3, 0.65, 0.65, 'JPY'], ['CA', 3.5, 1.05, 0.55, 0.5, 'CAD'], ['MX', 3, 1.4, 0.7, 0.2, 'MXN'],
  ['ID', 3, 2.0, 0.85, 0.08, 'IDR'], ['ES', 2.5, 1.2, 0.6, 0.25, 'EUR'], ['IT', 2.5, 1.2, 0.6, 0.3, 'EUR'],
  ['KR', 2, 1.3, 0.7, 0.3, 'KRW'], ['AU', 2, 1.5, 0.55, 0.5, 'AUD'], ['NL', 1.5, 1.1, 0.5, 0.4, 'EUR'],
  ['TR', 1.5, 1.5, 0.7, 0.15, 'TRY'], ['PL', 1.3, 1.25, 0.6, 0.2, 'PLN'], ['PH', 1.3, 2.0, 0.8, 0.12, 'PHP'],
  ['NG', 1.2, 2.5, 0.85, 0.08, 'NGN'], ['VN', 1.2, 1.9, 0.8, 0.15, 'VND'], ['AR', 1, 1.7, 0.65, 0.12, 'ARS'],
  ['SE', 1, 1.15, 0.55, 0.45, 'SEK'], ['CO', 1, 1.6, 0.7, 0.15, 'COP'], ['EG', 0.9, 2.1, 0.8, 0.1, 'EGP'],
  ['ZA', 0.9, 1.9, 0.7, 0.2, 'ZAR'], ['TH', 0.9, 1.7, 0.75, 0.25, 'THB'], ['PK', 0.8, 2.2, 0.85, 0.05, 'PKR'],
  ['CH', 0.7, 1.1, 0.5, 0.5, 'CHF'], ['BE', 0.7, 1.1, 0.5, 0.35, 'EUR'], ['KE', 0.5, 2.4, 0.85, 0.06, 'KES'],
] as const).map(([code, weight, slow, mobileShare, iosShare, currency]) => ({ code, weight, slow, mobileShare, iosShare, currency }));
const COUNTRY = new Weighted(COUNTRIES, COUNTRIES.map((c) => c.weight));

const PLANS = new Weighted(['free', 'plus', 'pro', 'enterprise'], [72, 18, 8, 2]);
const DESKTOP_OS = new Weighted(['Windows', 'macOS', 'Linux', 'ChromeOS'], [66, 26, 5, 3]);

/** App releases: version, release time as a fraction of the window (negative: before it). */
const RELEASES: readonly [string, number][] = [
  ['3.2.4', -1],
  ['3.3.0', 0.2],
  ['3.3.1', 0.3],
  ['3.4.0', 0.7],
];
/** Session ids arrived with 3.3.0: older app versions send none. */
const FIRST_VERSION = RELEASES[0][0];
/** 3.3.0 shipped a checkout bug; 3.4.0 a slower search. */
const BUGGY_VERSION = '3.3.0';
const SLOW_SEARCH_VERSION = '3.4.0';

const CATEGORIES = ['electronics', 'books', 'home', 'fashion', 'toys', 'sports', 'beauty', 'garden'];
const ITEMS = [1001, 1002, 1003, 1017, 1024, 1042, 1100, 1234, 1337, 2048, 3001, 4096];
const ITEM_PRICES = [19.99, 249, 8.5, 59.9, 129, 34.95, 4.99, 899, 15, 74.5, 12.25, 449];
const ITEM_ZIPF = new Weighted(ITEMS.map((_, i) => i), ITEMS.map((_, i) => 1 / (i + 1)));
const BLOG = ['launch', 'pricing', 'tips', 'roadmap', 'security', 'holiday-guide', 'changelog', 'careers', 'story', 'api'];

type Landing = 'root' | 'home' | 'category' | 'deals' | 'blog' | 'item' | 'help' | 'about';
const LANDING = new Weighted<Landing>(
  ['root', 'home', 'category', 'deals', 'blog', 'item', 'help', 'about'],
  [30, 15, 25, 8, 10, 8, 2, 2],
);

/** Median latency in ms by path prefix (log-normal around it). */
function baseLatencyMs(path: string): number {
  if (path.startsWith('/search')) return 140;
  if (path.startsWith('/item/')) return 85;
  if (path.startsWith('/category/')) return 70;
  if (path === '/checkout/confirm') return 480;
  if (path.startsWith('/checkout')) return 220;
  if (path.startsWith('/api/')) return 45;
  if (path === '/login' || path === '/signup') return 130;
  if (path.startsWith('/account')) return 90;
  return 35;
}

/** The fixed set of event names (20). */
export const EVENT_NAMES = [
  'page_view', 'search', 'view_item', 'add_to_cart', 'checkout', 'purchase',
  'signup', 'login', 'logout', 'share', 'error', 'click', 'scroll', 'view_cart',
  'remove_from_cart', 'apply_coupon', 'rate_item', 'notification_open', 'settings_change', 'video_play',
] as const;
export type EventName = (typeof EVENT_NAMES)[number];
/** The purchase funnel, in order; each step's count never exceeds the previous step's. */
export const FUNNEL: readonly EventName[] = ['page_view', 'search', 'view_item', 'add_to_cart', 'checkout', 'purchase'];

const CLIENT_NOISE = new Weighted<EventName>(['scroll', 'click', 'video_play', 'share', 'rate_item', 'error'], [40, 35, 8, 7, 6, 4]);

// ───────────────────────────── events ─────────────────────────────

export type Props = { plan: string } & Record<string, string | number>;

/** One generated event; key order is fixed, `JSON.stringify` of it equals the NDJSON line. */
export interface GeneratedEvent {
  user_id: string;
  /** ISO-8601 with milliseconds and Z, or epoch milliseconds with `timeFormat: 'ms'`. */
  time: string | number;
  event: EventName;
  path: string;
  country: string;
  os: string;
  device: string;
  app_version: string;
  /** HTTP status; absent on client-side events (scroll, click, share, ...). */
  status?: number;
  latency_ms?: number;
  /** Present on app (mobile and tablet) events only. */
  session_id?: string;
  props?: Props;
}

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
}

/** Salt of the shuffle's PRNG stream, apart from the per-user streams. */
const SHUFFLE_STREAM = 0x5ff1e;

export const DEFAULT_END_MS = Date.UTC(2026, 10, 1);
const DAY_MS = 86_400_000;

/** Event count per user: proportional to truncated-Pareto weights, summing exactly to `events`. */
function userEventCounts(events: number, users: number, seed: number): Int32Array {
  const weights = new Float64Array(users);
  let total = 0;
  for (let i = 0; i < users; i++) {
    const u = new Rng(seed, i, 0x51).next();
    total += weights[i] = Math.min(500, (1 - u) ** (-1 / 1.4));
  }
  const counts = new Int32Array(users);
  let assigned = 0;
  for (let i = 0; i < users; i++) assigned += counts[i] = Math.floor((events * weights[i]) / total);
  for (let i = 0; assigned < events; i = (i + 1) % users, assigned++) counts[i]++;
  return counts;
}

interface QueuedEvent {
  event: EventName;
  path: string;
  /** Server-side events carry status and latency. */
  server: boolean;
  props?: Record<string, string | number>;
}

const pad2 = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const pad3 = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));

/** ISO-8601 formatting with the date part cached per day (events come in time order per user). */
class IsoFormatter {
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

/** One user's attributes and journey state; `plan*` push the events of a session or journey. */
class UserSim {
  readonly country: CountryInfo;
  readonly device: string;
  readonly os: string;
  readonly plan: string;
  readonly app: boolean;
  /** Time from which the user runs each release (Infinity: never upgrades to it). */
  private readonly upgradeMs: number[];
  readonly queue: QueuedEvent[] = [];

  constructor(
    private readonly rng: Rng,
    startMs: number,
    spanMs: number,
    readonly isNew: boolean,
  ) {
    this.country = COUNTRY.sample(rng);
    const d = rng.next();
    this.device = d < this.country.mobileShare ? 'mobile' : d < this.country.mobileShare + 0.06 ? 'tablet' : 'desktop';
    const ios = rng.chance(this.country.iosShare);
    this.os = this.device === 'mobile' ? (ios ? 'iOS' : 'Android') : this.device === 'tablet' ? (ios ? 'iPadOS' : 'Android') : DESKTOP_OS.sample(rng);
    this.app = this.device !== 'desktop';
    this.plan = isNew ? 'free' : PLANS.sample(rng);
    const laggard = rng.chance(0.15);
    this.upgradeMs = RELEASES.map(([, at], i) =>
      i === 0 ? -Infinity : laggard && i > 1 ? Infinity : startMs + at * spanMs + rng.exp() * 3 * DAY_MS,
    );
  }

  appVersion(timeMs: number): string {
    if (!this.app) return 'web';
    let v = 0;
    for (let i = 1; i < RELEASES.length; i++) if (this.upgradeMs[i] <= timeMs) v = i;
    return RELEASES[v][0];
  }

  private push(event: EventName, path: string, server: boolean, props?: Record<string, string | number>): void {
    this.queue.push({ event, path, server, props });
  }

  /** Clears the queue and plans the session's opening events and first journey. */
  planSession(firstSession: boolean): void {
    this.queue.length = 0;
    const rng = this.rng;
    if (this.app && rng.chance(0.12)) this.push('notification_open', '/notifications', false);
    if (firstSession && this.isNew) {
      this.push('page_view', '/signup', true);
      this.push('signup', '/signup', true, { referrer: rng.pick(['google', 'friend', 'ad', 'direct', 'newsletter']) });
    } else if (rng.chance(this.app ? 0.05 : 0.2)) {
      this.push('login', '/login', true, { method: rng.pick(['password', 'password', 'google', 'apple', 'sso']) });
    }
    if (rng.chance(0.03)) this.push('settings_change', '/account/settings', true, { setting: rng.pick(['email', 'theme', 'language', 'notifications']) });
    this.planJourney();
  }

  private noise(path: string, meanEvents: number): void {
    const rng = this.rng;
    while (rng.chance(meanEvents / (1 + meanEvents))) {
      const event = CLIENT_NOISE.sample(rng);
      this.push(event, path, false, event === 'share' ? { channel: rng.pick(['link', 'email', 'whatsapp', 'x', 'facebook']) } : undefined);
    }
  }

  /** Pushes one journey: a landing page view and the funnel steps reached before dropping off. */
  planJourney(): void {
    const rng = this.rng;
    // Conversion depends on plan, platform and country, so segments differ in funnels
    const lift = (this.plan === 'free' ? 1 : this.plan === 'plus' ? 1.15 : 1.3) * (this.os === 'Android' ? 0.9 : 1) * (this.country.slow > 1.8 ? 0.85 : 1);
    const landing = LANDING.sample(rng);
    const item = ITEM_ZIPF.sample(rng);
    const path =
      landing === 'root' ? '/' : landing === 'category' ? `/category/${rng.pick(CATEGORIES)}` : landing === 'blog' ? `/blog/${rng.pick(BLOG)}` : landing === 'item' ? `/item/${ITEMS[item]}` : `/${landing}`;
    this.push('page_view', path, true);
    this.noise(path, 0.6);
    if (rng.chance(0.05)) {
      this.push('page_view', '/account', true);
      this.push('page_view', '/account/orders', true);
      return;
    }
    if (!rng.chance(0.55)) return;
    this.push('search', '/search', true, { results: rng.int(60) });
    this.noise('/search', 0.3);
    if (!rng.chance(0.72)) return;
    const itemPath = `/item/${ITEMS[item]}`;
    this.push('view_item', itemPath, true);
    this.noise(itemPath, 0.8);
    if (!rng.chance(0.3 * lift)) return;
    const quantity = 1 + (rng.chance(0.2) ? rng.int(3) : 0);
    this.push('add_to_cart', '/api/cart', true, { item_id: `i${ITEMS[item]}`, price: ITEM_PRICES[item] });
    if (rng.chance(0.08)) this.push('remove_from_cart', '/api/cart', true);
    if (rng.chance(0.6)) this.push('view_cart', '/cart', true);
    if (!rng.chance(0.55 * lift)) return;
    this.push('checkout', '/checkout', true, { items: quantity });
    if (rng.chance(0.15)) this.push('apply_coupon', '/checkout', true);
    if (!rng.chance(0.7 * lift > 0.95 ? 0.95 : 0.7 * lift)) return;
    const amount = Math.round(ITEM_PRICES[item] * quantity * 100) / 100;
    this.push('purchase', '/checkout/confirm', true, { amount, currency: this.country.currency, items: quantity });
    if (rng.chance(0.05)) this.push('logout', '/logout', true);
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
    const rng = new Rng(seed, u, 0x7e);
    const isNew = rng.chance(0.25);
    const userStartMs = isNew ? startMs + Math.floor(rng.next() * 0.9 * spanMs) : startMs;
    const sim = new UserSim(rng, startMs, spanMs, isNew);
    const userId = `u${String(u + 1).padStart(idWidth, '0')}`;
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

interface Timeline {
  sessionLengths: Int32Array;
  /** Gap before each event (used inside sessions only). */
  gapMs: Float64Array;
  /** Idle time before the first session, between sessions and after the last. */
  idleMs: Float64Array;
}

/** Splits `count` events into sessions and places them in a window of `spanMs`. */
function planTimeline(rng: Rng, count: number, spanMs: number): Timeline {
  const sessions = Math.max(1, Math.min(count, Math.round(count / (7 * Math.exp(0.4 * rng.normal())))));
  const sessionLengths = new Int32Array(sessions).fill(1);
  spread(rng, sessionLengths, count - sessions);
  const gapMs = new Float64Array(count);
  let activeMs = 0;
  for (let i = 0; i < count; i++) activeMs += gapMs[i] = Math.min(1_200_000, 200 + rng.logNormal(15_000, 1.0));
  // sessions start with no gap; only gaps inside sessions use time
  for (let s = 0, e = 0; s < sessions; e += sessionLengths[s++]) activeMs -= gapMs[e];
  if (activeMs > 0.6 * spanMs) {
    const scale = (0.6 * spanMs) / activeMs;
    for (let i = 0; i < count; i++) gapMs[i] *= scale;
    activeMs *= scale;
  }
  const idleMs = new Float64Array(sessions + 1);
  let idleTotal = 0;
  for (let i = 0; i <= sessions; i++) idleTotal += idleMs[i] = rng.exp();
  const idleBudget = Math.max(0, spanMs - activeMs - 2);
  for (let i = 0; i <= sessions; i++) idleMs[i] *= idleBudget / idleTotal;
  return { sessionLengths, gapMs, idleMs };
}

/** Adds `extra` to `into` at random, proportionally to exponential weights, exactly. */
function spread(rng: Rng, into: Int32Array, extra: number): void {
  const w = new Float64Array(into.length);
  let total = 0;
  for (let i = 0; i < w.length; i++) total += w[i] = rng.exp();
  let given = 0;
  for (let i = 0; i < w.length; i++) {
    const k = Math.floor((extra * w[i]) / total);
    into[i] += k;
    given += k;
  }
  for (let i = 0; given < extra; i = (i + 1) % into.length, given++) into[i]++;
}

/** Turns a queued event into a full event: status, latency, server errors, props with the plan. */
function materialize(
  sim: UserSim,
  rng: Rng,
  q: QueuedEvent,
  userId: string,
  time: string | number,
  timeMs: number,
  sessionId: string | undefined,
): GeneratedEvent {
  const appVersion = sim.appVersion(timeMs);
  const ev: GeneratedEvent = {
    user_id: userId,
    time,
    event: q.event,
    path: q.path,
    country: sim.country.code,
    os: sim.os,
    device: sim.device,
    app_version: appVersion,
  };
  if (q.server) {
    const checkout = q.path.startsWith('/checkout');
    const errorRate = 0.004 * (sim.country.slow > 1.8 ? 2 : 1) * (appVersion === BUGGY_VERSION && checkout ? 8 : 1);
    let latency = rng.logNormal(baseLatencyMs(q.path), 0.55) * sim.country.slow * (sim.device === 'desktop' ? 1 : 1.15);
    if (appVersion === SLOW_SEARCH_VERSION && q.event === 'search') latency *= 1.4;
    if (rng.chance(0.01)) latency *= 3 + 7 * rng.next(); // tail: GC pauses, cold caches
    let status = statusFor(rng, q.event);
    if (rng.chance(errorRate)) {
      // the step fails: an error event replaces it and the journey ends (see generateEvents)
      status = rng.chance(0.5) ? 500 : rng.chance(0.5) ? 502 : rng.chance(0.7) ? 503 : 504;
      ev.event = 'error';
      q.event = 'error';
      latency = status === 504 ? 30_000 + rng.next() * 100 : status === 503 ? 2 + rng.next() * 10 : latency * 1.5;
    }
    ev.status = status;
    // log style: whole milliseconds from 100 ms up, one decimal below
    ev.latency_ms = latency >= 100 ? Math.round(latency) : Math.round(latency * 10) / 10;
  }
  if (sessionId !== undefined && appVersion !== FIRST_VERSION) ev.session_id = sessionId;
  if (q.props !== undefined && ev.event !== 'error') ev.props = { plan: sim.plan, ...q.props };
  return ev;
}

function statusFor(rng: Rng, event: EventName): number {
  switch (event) {
    case 'page_view':
      return rng.chance(0.04) ? 304 : rng.chance(0.02) ? 404 : 200;
    case 'view_item':
      return rng.chance(0.015) ? 404 : 200;
    case 'login':
      return rng.chance(0.05) ? 401 : 200;
    case 'add_to_cart':
    case 'purchase':
    case 'signup':
      return 201;
    case 'logout':
    case 'remove_from_cart':
      return 204;
    default:
      return rng.chance(0.002) ? 429 : 200;
  }
}

// ───────────────────────────── serialization ─────────────────────────────

/** The NDJSON line of an event (no newline); equal to `JSON.stringify(ev)`, built faster. */
export function eventToJson(ev: GeneratedEvent): string {
  let s = `{"user_id":"${ev.user_id}","time":${typeof ev.time === 'string' ? `"${ev.time}"` : ev.time},"event":"${ev.event}","path":"${ev.path}","country":"${ev.country}","os":"${ev.os}","device":"${ev.device}","app_version":"${ev.app_version}"`;
  if (ev.status !== undefined) s += `,"status":${ev.status},"latency_ms":${ev.latency_ms}`;
  if (ev.session_id !== undefined) s += `,"session_id":"${ev.session_id}"`;
  if (ev.props !== undefined) {
    let p = '';
    for (const k in ev.props) {
      const v = ev.props[k];
      p += `${p === '' ? '' : ','}"${k}":${typeof v === 'string' ? `"${v}"` : v}`;
    }
    s += `,"props":{${p}}`;
  }
  return s + '}';
}

/** CSV columns: the top-level fields, then the flattened props. Values never need quoting. */
export const CSV_COLUMNS = [
  'user_id', 'time', 'event', 'path', 'country', 'os', 'device', 'app_version', 'status', 'latency_ms', 'session_id',
  'props.plan', 'props.referrer', 'props.method', 'props.setting', 'props.channel', 'props.results',
  'props.item_id', 'props.price', 'props.items', 'props.amount', 'props.currency',
] as const;

/** The CSV row of an event (no newline); absent values are empty. */
export function eventToCsv(ev: GeneratedEvent): string {
  const p = ev.props;
  const v = (x: string | number | undefined): string => (x === undefined ? '' : String(x));
  return `${ev.user_id},${ev.time},${ev.event},${ev.path},${ev.country},${ev.os},${ev.device},${ev.app_version},${v(ev.status)},${v(ev.latency_ms)},${v(ev.session_id)},${
    p === undefined ? ',,,,,,,,,,' : `${p.plan},${v(p.referrer)},${v(p.method)},${v(p.setting)},${v(p.channel)},${v(p.results)},${v(p.item_id)},${v(p.price)},${v(p.items)},${v(p.amount)},${v(p.currency)}`
  }`;
}

export interface WriteOptions extends GenerateOptions {
  format?: 'ndjson' | 'csv';
  /** A deterministic uniform shuffle of all lines (the CSV header stays first). */
  shuffle?: boolean;
  /** Lines per in-memory shuffle bucket (default 1M); temp files hold the rest. */
  shuffleWindow?: number;
  /** Called about every 100k events with the number generated so far. */
  onProgress?: (events: number) => void;
}

export interface WriteResult {
  events: number;
  bytes: number;
  seconds: number;
}

/** Buffered synchronous writer of ASCII lines and byte ranges to a file descriptor. */
class FileSink {
  private readonly chunk: Buffer;
  private pos = 0;
  bytes = 0;
  constructor(
    readonly fd: number,
    chunkBytes = 1 << 20,
  ) {
    this.chunk = Buffer.allocUnsafe(chunkBytes);
  }
  /** Appends `line` and a newline; the generator's text is ASCII, so latin1 is byte-exact. */
  writeLine(line: string): void {
    if (this.pos + line.length + 1 > this.chunk.length) {
      this.flush();
      if (line.length + 1 > this.chunk.length) return this.writeBytes(Buffer.from(line + '\n', 'latin1'));
    }
    this.pos += this.chunk.write(line, this.pos, 'latin1');
    this.chunk[this.pos++] = 10;
  }
  writeBytes(b: Buffer): void {
    this.flush();
    writeAll(this.fd, b);
    this.bytes += b.length;
  }
  private flush(): void {
    writeAll(this.fd, this.chunk.subarray(0, this.pos));
    this.bytes += this.pos;
    this.pos = 0;
  }
  close(): void {
    this.flush();
    closeSync(this.fd);
  }
}

function writeAll(fd: number, b: Buffer): void {
  for (let off = 0; off < b.length; ) off += writeSync(fd, b, off, b.length - off);
}

/** Writes generated events to `path` as NDJSON (default) or CSV, optionally shuffled. */
export async function writeEvents(path: string, opts: WriteOptions): Promise<WriteResult> {
  const started = performance.now();
  const toLine = opts.format === 'csv' ? eventToCsv : eventToJson;
  const out = new FileSink(openSync(path, 'w'));
  if (opts.format === 'csv') out.writeLine(CSV_COLUMNS.join(','));
  let events = 0;
  try {
    if (!opts.shuffle) {
      for (const ev of generateEvents(opts)) {
        out.writeLine(toLine(ev));
        if (++events % 100_000 === 0) opts.onProgress?.(events);
      }
    } else {
      events = shuffleInto(out, dirname(resolve(path)), opts, toLine);
    }
  } finally {
    out.close();
  }
  opts.onProgress?.(events);
  return { events, bytes: out.bytes, seconds: (performance.now() - started) / 1000 };
}

/** Writes generated events to `path` as NDJSON; see {@link writeEvents}. */
export function writeNdjson(path: string, opts: Omit<WriteOptions, 'format'>): Promise<WriteResult> {
  return writeEvents(path, { ...opts, format: 'ndjson' });
}

/**
 * Deals lines at random into ceil(events / window) temp bucket files, then shuffles each bucket in
 * memory and appends it to `out`. Memory: one bucket (~window lines) plus 256 KiB per bucket.
 */
function shuffleInto(out: FileSink, nearDir: string, opts: WriteOptions, toLine: (ev: GeneratedEvent) => string): number {
  const window = Math.max(1, Math.floor(opts.shuffleWindow ?? 1_000_000));
  const bucketCount = Math.max(1, Math.ceil(opts.events / window));
  const rng = new Rng(opts.seed ?? 1, SHUFFLE_STREAM);
  const tmp = mkdtempSync(join(nearDir, '.shuffle-'));
  const buckets: { path: string; sink: FileSink | null }[] = [];
  let events = 0;
  try {
    for (let i = 0; i < bucketCount; i++) {
      const bucketPath = join(tmp, `${i}`);
      buckets.push({ path: bucketPath, sink: new FileSink(openSync(bucketPath, 'w'), 1 << 18) });
    }
    for (const ev of generateEvents(opts)) {
      buckets[bucketCount === 1 ? 0 : rng.int(bucketCount)].sink!.writeLine(toLine(ev));
      if (++events % 100_000 === 0) opts.onProgress?.(events);
    }
    for (const b of buckets) {
      b.sink!.close();
      b.sink = null;
      shuffleLines(readFileSync(b.path), rng, out);
      rmSync(b.path);
    }
  } finally {
    for (const b of buckets) if (b.sink !== null) closeSync(b.sink.fd);
    rmSync(tmp, { recursive: true, force: true });
  }
  return events;
}

/** Fisher–Yates over the lines of `data` (each ends with a newline), written to `out` in 4 MiB chunks. */
function shuffleLines(data: Buffer, rng: Rng, out: FileSink): void {
  let lineCount = 0;
  for (let i = data.indexOf(10); i >= 0; i = data.indexOf(10, i + 1)) lineCount++;
  const starts = new Uint32Array(lineCount + 1);
  for (let i = 0, n = 0, at = 0; n < lineCount; n++) {
    i = data.indexOf(10, at);
    starts[n] = at;
    at = i + 1;
    starts[n + 1] = at;
  }
  const order = new Uint32Array(lineCount);
  for (let i = 0; i < lineCount; i++) order[i] = i;
  for (let i = lineCount - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  const chunk = Buffer.allocUnsafe(4 << 20);
  let pos = 0;
  for (let k = 0; k < lineCount; k++) {
    const line = order[k];
    const start = starts[line];
    const end = starts[line + 1];
    if (pos + end - start > chunk.length) {
      out.writeBytes(chunk.subarray(0, pos));
      pos = 0;
    }
    pos += data.copy(chunk, pos, start, end);
  }
  out.writeBytes(chunk.subarray(0, pos));
}
