/**
 * Time buckets. A query's buckets are computed once, as an ascending list of boundaries
 * B[0] < B[1] < … < B[n] (bucket i is [B[i], B[i+1])), and rows are assigned by walking or
 * bisecting that list, which is fast on time-sorted runs.
 *
 * Definitions (in the query's IANA zone; UTC is the special case with offset 0):
 * - `1d`: from the first instant of a local calendar day to the first instant of the next
 *   (23 h / 25 h on DST days; when local midnight does not exist, the day starts at the jump).
 * - `1w`: local days starting on Monday. `1mo`: local days starting on the 1st.
 * - sub-day units (`1m` … `12h`): boundaries are the instants whose local wall-clock time is a
 *   multiple of the unit since local midnight. For `1h` and shorter in whole-hour zones this is
 *   the same grid as UTC; in Asia/Kolkata (+05:30) hours start at :30 UTC; `6h` buckets start at
 *   local 00:00, 06:00, 12:00 and 18:00, so on DST days one of them is 5 h or 7 h long. When
 *   a forward jump skips a grid time (Santiago's midnight, 00:00 → 01:00), a bucket starts at the
 *   jump, where the local day starts.
 */
import { ShoalError } from '../errors.js';
import type { BucketUnit } from './query-types.js';
import { timeZoneRules, type TimeZoneRules } from './tz.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

/** Fixed width of sub-day units; calendar units are absent. */
const SUB_DAY_MS: Partial<Record<BucketUnit, number>> = {
  '1m': MINUTE_MS, '5m': 5 * MINUTE_MS, '15m': 15 * MINUTE_MS, '30m': 30 * MINUTE_MS,
  '1h': HOUR_MS, '3h': 3 * HOUR_MS, '6h': 6 * HOUR_MS, '12h': 12 * HOUR_MS,
};

/**
 * The instants buckets may cover. `from` and `to` may be anything a Date holds (±8.64e15 ms),
 * but a bucket reaches up to a month (and zone rules, tz.ts, a whole UTC year) past its range's
 * ends, where Date arithmetic gives NaN: a month bucket holding the last instant never found its
 * end, and the coordinating thread looped forever.
 */
const BUCKET_MIN_MS = Date.UTC(-271820, 0, 1) + 64 * DAY_MS;
const BUCKET_MAX_MS = Date.UTC(275760, 0, 1) - 64 * DAY_MS;

/**
 * About the length of one bucket of a unit, for refusing ranges of far too many buckets before
 * computing any: the boundaries are then counted exactly (DST days make some buckets shorter).
 */
function typicalWidthMs(unit: BucketUnit): number {
  return SUB_DAY_MS[unit] ?? (unit === '1d' ? DAY_MS : unit === '1w' ? 7 * DAY_MS : 28 * DAY_MS);
}

/** First instant whose local wall-clock time is ≥ `wallMs` (a local date-time written as UTC). */
function firstInstantAtWall(rules: TimeZoneRules, wallMs: number): number {
  for (const iv of rules.intervals(wallMs - 2 * DAY_MS, wallMs + 2 * DAY_MS)) {
    // Walls in this interval run from startMs+offset to endMs+offset (exclusive).
    if (iv.endMs + iv.offsetMs > wallMs) return Math.max(iv.startMs, wallMs - iv.offsetMs);
  }
  return wallMs; // unreachable for real zones (offsets are under a day)
}

/** Local calendar date of instant t, as the UTC epoch ms of that date's midnight. */
function localDateMs(rules: TimeZoneRules, t: number): number {
  const wall = t + rules.offsetAt(t);
  return Math.floor(wall / DAY_MS) * DAY_MS;
}

/** UTC midnight of year y, month m (0-based, may overflow), day 1 (Date.UTC reads years 0-99 as 1900-1999). */
function monthStartMs(y: number, m: number): number {
  const d = new Date(0);
  d.setUTCFullYear(y, m, 1);
  return d.getTime();
}

/** Start of the calendar period (as a local date, UTC-midnight ms) containing local date `dateMs`. */
function periodDate(unit: BucketUnit, dateMs: number): number {
  if (unit === '1d') return dateMs;
  const d = new Date(dateMs);
  if (unit === '1w') return dateMs - ((d.getUTCDay() + 6) % 7) * DAY_MS;
  return monthStartMs(d.getUTCFullYear(), d.getUTCMonth());
}

function nextPeriodDate(unit: BucketUnit, dateMs: number): number {
  if (unit === '1d') return dateMs + DAY_MS;
  if (unit === '1w') return dateMs + 7 * DAY_MS;
  const d = new Date(dateMs);
  return monthStartMs(d.getUTCFullYear(), d.getUTCMonth() + 1);
}

/** Sub-day boundaries in [loMs, hiMs): instants whose wall time is a multiple of w. */
function subDayBoundaries(rules: TimeZoneRules, w: number, loMs: number, hiMs: number, out: number[], max: number): void {
  for (const iv of rules.intervals(loMs, hiMs)) {
    const o = iv.offsetMs;
    // A forward jump over a grid time (a skipped local midnight, say) starts a bucket at the
    // jump, as it starts the day: otherwise one bucket would span both local days.
    const before = rules.offsetAt(iv.startMs - 1);
    if (before < o && Math.ceil((iv.startMs + before) / w) * w < iv.startMs + o && (iv.startMs + o) % w !== 0) {
      out.push(iv.startMs);
      if (out.length > max) return;
    }
    for (let b = Math.ceil((iv.startMs + o) / w) * w - o; b < iv.endMs; b += w) {
      out.push(b);
      if (out.length > max) return;
    }
  }
}

/** Start of the bucket containing instant t. */
export function bucketStartMs(unit: BucketUnit, tz: string, t: number): number {
  const rules = timeZoneRules(tz);
  const w = SUB_DAY_MS[unit];
  if (w === undefined) return firstInstantAtWall(rules, periodDate(unit, localDateMs(rules, t)));
  const found: number[] = [];
  subDayBoundaries(rules, w, t - 2 * DAY_MS - w, t + 1, found, Infinity);
  return found[found.length - 1];
}

/**
 * Boundaries of every bucket that meets [loMs, hiMs): B[0] is the calendar-aligned start of the
 * bucket containing loMs and B[n] the end of the bucket containing hiMs − 1. Empty when
 * hiMs ≤ loMs. Throws BAD_BUCKET when there would be more than `maxBuckets` buckets, and
 * BAD_TIME_RANGE (at `from` or `to`) for a range reaching past BUCKET_MIN_MS … BUCKET_MAX_MS.
 */
export function bucketBoundaries(unit: BucketUnit, tz: string, loMs: number, hiMs: number, maxBuckets: number): Float64Array {
  if (!(hiMs > loMs)) return new Float64Array(0);
  const tooMany = (): ShoalError =>
    new ShoalError('BAD_BUCKET', [`bucket ${unit} over this time range makes more than ${maxBuckets} buckets; use a larger bucket or a narrower range`], 'bucket');
  if ((hiMs - loMs) / typicalWidthMs(unit) > 2 * maxBuckets + 2) throw tooMany();
  if (loMs < BUCKET_MIN_MS || hiMs > BUCKET_MAX_MS) {
    const span = `${new Date(BUCKET_MIN_MS).toISOString()} to ${new Date(BUCKET_MAX_MS).toISOString()}`;
    throw new ShoalError('BAD_TIME_RANGE', [`time buckets and calendar periods cover ${span} only`], loMs < BUCKET_MIN_MS ? 'from' : 'to');
  }
  const rules = timeZoneRules(tz);
  const out: number[] = [bucketStartMs(unit, tz, loMs)];
  const w = SUB_DAY_MS[unit];
  if (w !== undefined) {
    subDayBoundaries(rules, w, out[0] + 1, hiMs + w + DAY_MS, out, maxBuckets + 2);
    let n = 1;
    while (n < out.length && out[n - 1] < hiMs) n++;
    out.length = n;
  } else {
    let date = periodDate(unit, localDateMs(rules, loMs));
    while (out[out.length - 1] < hiMs) {
      date = nextPeriodDate(unit, date);
      const start = firstInstantAtWall(rules, date);
      // A skipped calendar day (Pacific/Apia, 2011-12-30) starts where the next one does.
      if (start > out[out.length - 1]) out.push(start);
      if (out.length > maxBuckets + 1) break;
    }
  }
  if (out.length - 1 > maxBuckets) throw tooMany();
  return Float64Array.from(out);
}

/**
 * Assigns instants to buckets: the index i with B[i] ≤ t < B[i+1]. Remembers the last bucket,
 * so rows sorted by time (within an actor) cost one comparison each; others bisect.
 */
export class BucketIndexer {
  private readonly b: Float64Array;
  private last = 0;
  /** Width when every bucket has the same length (UTC and fixed-offset sub-day), else 0. */
  readonly uniformMs: number;

  constructor(boundaries: Float64Array) {
    this.b = boundaries;
    let w = boundaries.length > 1 ? boundaries[1] - boundaries[0] : 0;
    for (let i = 2; i < boundaries.length && w > 0; i++) if (boundaries[i] - boundaries[i - 1] !== w) w = 0;
    this.uniformMs = w;
  }

  get count(): number {
    return Math.max(0, this.b.length - 1);
  }

  start(i: number): number {
    return this.b[i];
  }

  /** Bucket of t; t must lie in [B[0], B[n]). */
  indexOf(t: number): number {
    const b = this.b;
    const i = this.last;
    if (t >= b[i] && t < b[i + 1]) return i;
    let lo = 0;
    let hi = b.length - 2;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (b[mid] <= t) lo = mid;
      else hi = mid - 1;
    }
    this.last = lo;
    return lo;
  }
}
