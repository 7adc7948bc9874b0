/**
 * Reference time buckets, computed the slow and obvious way with Intl (no offset arithmetic,
 * no transition tables): local wall-clock fields of an instant come straight from
 * Intl.DateTimeFormat; a day starts at the first instant whose local date is that day (found
 * by bisection on the local date); a sub-day bucket starts at the latest whole minute at or
 * before the instant whose local time of day is a multiple of the unit, or at which the clock
 * jumped forward over such a time. Assumes zones whose offsets are whole minutes (every zone
 * since 1972).
 */

const MIN = 60_000;
const DAY = 86_400_000;
const SUB_DAY_MIN: Record<string, number> = { '1m': 1, '5m': 5, '15m': 15, '30m': 30, '1h': 60, '3h': 180, '6h': 360, '12h': 720 };

const fmts = new Map<string, Intl.DateTimeFormat>();
const wallCache = new Map<string, number[]>();

/** [year, month 1-12, day, hour, minute] of instant t in tz. */
export function wallFields(tz: string, t: number): number[] {
  const key = `${tz}|${t}`;
  const hit = wallCache.get(key);
  if (hit !== undefined) return hit;
  let f = fmts.get(tz);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });
    fmts.set(tz, f);
  }
  const parts = Object.fromEntries(f.formatToParts(new Date(t)).map((p) => [p.type, p.value]));
  const out = [Number(parts.year), Number(parts.month), Number(parts.day), Number(parts.hour), Number(parts.minute)];
  if (wallCache.size > 2_000_000) wallCache.clear();
  wallCache.set(key, out);
  return out;
}

/** Local calendar date of t as a comparable number yyyymmdd. */
function dateNum(tz: string, t: number): number {
  const [y, m, d] = wallFields(tz, t);
  return y * 10000 + m * 100 + d;
}

/** First instant whose local date is ≥ the given date (bisection on instants to the ms). */
export function startOfLocalDate(tz: string, y: number, m: number, d: number): number {
  const target = y * 10000 + m * 100 + d;
  let lo = Date.UTC(y, m - 1, d) - 2 * DAY; // local date < target here
  let hi = Date.UTC(y, m - 1, d) + 2 * DAY; // local date ≥ target here
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (dateNum(tz, mid) >= target) hi = mid;
    else lo = mid;
  }
  return hi;
}

function ymdOf(utcMidnight: number): [number, number, number] {
  const d = new Date(utcMidnight);
  return [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()];
}

/** The local date (as a UTC-midnight ms) that starts the period of unit containing local date y-m-d. */
function periodStartDate(unit: string, y: number, m: number, d: number): number {
  const date = Date.UTC(y, m - 1, d);
  if (unit === '1d') return date;
  if (unit === '1mo') return Date.UTC(y, m - 1, 1);
  const weekday = new Date(date).getUTCDay(); // 0 = Sunday
  return date - ((weekday + 6) % 7) * DAY;
}

/** Local wall-clock time of t in whole minutes (as if the wall clock were UTC). */
function wallMinutes(tz: string, t: number): number {
  const [y, m, d, h, mi] = wallFields(tz, t);
  return Date.UTC(y, m - 1, d, h, mi) / MIN;
}

/**
 * Whether a sub-day bucket starts at minute s: its local time of day is a multiple of the unit,
 * or the clock jumped forward at s over such a time (which then does not exist).
 */
function isSubDayBoundary(tz: string, s: number, unitMin: number): boolean {
  const now = wallMinutes(tz, s);
  if (now % unitMin === 0) return true;
  const unjumped = wallMinutes(tz, s - MIN) + 1;
  return now > unjumped && Math.ceil(unjumped / unitMin) * unitMin < now;
}

/** Start of the bucket containing t. */
export function refBucketStart(unit: string, tz: string, t: number): number {
  const unitMin = SUB_DAY_MIN[unit];
  if (unitMin === undefined) {
    const [y, m, d] = wallFields(tz, t);
    return startOfLocalDate(tz, ...ymdOf(periodStartDate(unit, y, m, d)));
  }
  let s = Math.floor(t / MIN) * MIN;
  while (!isSubDayBoundary(tz, s, unitMin)) s -= MIN;
  return s;
}

/** Start of the bucket after the one starting at `start`. */
export function refNextBucket(unit: string, tz: string, start: number): number {
  const unitMin = SUB_DAY_MIN[unit];
  if (unitMin === undefined) {
    const [y, m, d] = wallFields(tz, start);
    let next = periodStartDate(unit, y, m, d);
    next = unit === '1d' ? next + DAY : unit === '1w' ? next + 7 * DAY : Date.UTC(y, m, 1);
    return startOfLocalDate(tz, ...ymdOf(next));
  }
  let s = start + MIN;
  while (!isSubDayBoundary(tz, s, unitMin)) s += MIN;
  return s;
}

/** Starts of all buckets meeting [lo, hi). */
export function refBuckets(unit: string, tz: string, lo: number, hi: number): number[] {
  const out: number[] = [];
  if (!(hi > lo)) return out;
  for (let b = refBucketStart(unit, tz, lo); b < hi; b = refNextBucket(unit, tz, b)) out.push(b);
  return out;
}
