/**
 * One user's life in the generator: attributes, how many events (truncated-Pareto activity), when
 * (sessions placed in the window), and what (journeys through the funnel with drop-off, noise
 * events, server errors), turned into complete events by `materialize`.
 */
import { Rng } from './rng.js';
import {
  BLOG, BUGGY_VERSION, CATEGORIES, CLIENT_NOISE, COUNTRY, DAY_MS, DESKTOP_OS, FIRST_VERSION, ITEM_PRICES, ITEM_ZIPF, ITEMS,
  LANDING, PLANS, RELEASES, SLOW_SEARCH_VERSION, baseLatencyMs, statusFor, type CountryInfo, type EventName,
} from './vocabulary.js';

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

interface QueuedEvent {
  event: EventName;
  path: string;
  /** Server-side events carry status and latency. */
  server: boolean;
  props?: Record<string, string | number>;
}

/** Event count per user: proportional to truncated-Pareto weights, summing exactly to `events`. */
export function userEventCounts(events: number, users: number, seed: number): Int32Array {
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

/** One user's attributes and journey state; `plan*` push the events of a session or journey. */
export class UserSim {
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
    if (!rng.chance(Math.min(0.95, 0.7 * lift))) return;
    const amount = Math.round(ITEM_PRICES[item] * quantity * 100) / 100;
    this.push('purchase', '/checkout/confirm', true, { amount, currency: this.country.currency, items: quantity });
    if (rng.chance(0.05)) this.push('logout', '/logout', true);
  }
}

export interface Timeline {
  sessionLengths: Int32Array;
  /** Gap before each event (used inside sessions only). */
  gapMs: Float64Array;
  /** Idle time before the first session, between sessions and after the last. */
  idleMs: Float64Array;
}

/** Splits `count` events into sessions and places them in a window of `spanMs`. */
export function planTimeline(rng: Rng, count: number, spanMs: number): Timeline {
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
export function materialize(
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
