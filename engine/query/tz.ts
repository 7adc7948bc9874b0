/**
 * Time-zone offsets and transitions from the platform's IANA database, through
 * Intl.DateTimeFormat (no bundled tzdata). A zone is described, per UTC year, as the list of
 * instants where its UTC offset changes; these are found once by sampling the offset every
 * 24 hours and bisecting between samples that differ, then cached for the process. Years before
 * 1800 and from 2800 on are not sampled (see EARLY_YEAR and CYCLE_FROM).
 *
 * Correctness first: every offset comes from Intl. Speed: after the first query touching a
 * year, offsets and constant-offset intervals are array lookups.
 *
 * Threading: module-level caches are per thread (each worker builds its own).
 */

const DAY_MS = 86_400_000;

/** A stretch of time [startMs, endMs) in which a zone's UTC offset is constant. */
export interface OffsetInterval {
  startMs: number;
  endMs: number;
  /** local wall-clock time − UTC, in ms. */
  offsetMs: number;
}

interface YearRules {
  /** Offset in force at the year's first instant. */
  initialOffsetMs: number;
  /** Instants (ascending) where the offset changes, and the offset from then on. */
  atMs: number[];
  offsetMs: number[];
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric',
      hour: 'numeric', minute: 'numeric', second: 'numeric', era: 'short',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** The canonical name of a zone (e.g. "utc" → "UTC"), or null when Intl does not know it. */
export function canonicalTimeZone(tz: string): string | null {
  if (typeof tz !== 'string' || tz.length === 0 || tz.length > 64) return null;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

/** Offset (local − UTC, ms) of `tz` at instant `t`, straight from Intl (slow; cached by callers). */
export function intlOffsetMs(tz: string, t: number): number {
  const whole = Math.floor(t / 1000) * 1000;
  const parts = formatter(tz).formatToParts(new Date(whole));
  let y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0, bc = false;
  for (const p of parts) {
    switch (p.type) {
      case 'year': y = Number(p.value); break;
      case 'month': mo = Number(p.value); break;
      case 'day': d = Number(p.value); break;
      case 'hour': h = Number(p.value); break;
      case 'minute': mi = Number(p.value); break;
      case 'second': s = Number(p.value); break;
      case 'era': bc = p.value.startsWith('B'); break;
    }
  }
  const wall = Date.UTC(bc ? 1 - y : y, mo - 1, d, h, mi, s);
  // Date.UTC maps years 0-99 to 1900-1999; set the full year explicitly.
  const fixed = new Date(wall);
  fixed.setUTCFullYear(bc ? 1 - y : y);
  return fixed.getTime() - whole;
}

/** The first instant of UTC year y (Date.UTC reads years 0-99 as 1900-1999). */
function yearStartMs(y: number): number {
  const d = new Date(0);
  d.setUTCFullYear(y, 0, 1);
  return d.getTime();
}

/**
 * The UTC years whose rules are scanned: the whole years a Date holds (±8.64e15 ms ends inside
 * -271821 and 275760, whose first or last instants it cannot hold). An instant beyond them
 * takes the rules of the nearest such year, so offsets are finite for every number.
 */
const FIRST_YEAR = -271820;
const LAST_YEAR = 275759;

/** The UTC year of instant t, clamped to the years whose rules are scanned. */
function ruleYear(t: number): number {
  const y = new Date(Math.min(8.64e15, Math.max(-8.64e15, t))).getUTCFullYear();
  return Math.min(LAST_YEAR, Math.max(FIRST_YEAR, y));
}

const FIXED_ZERO = new Set(['UTC', 'Etc/UTC', 'Etc/GMT', 'GMT', 'Etc/UCT', 'Etc/Universal', 'Etc/Zulu', 'Etc/Greenwich']);

/**
 * Years before this keep the offset in force at its start (local mean time): the tz database's
 * first transitions are from 1845 on, and sampling every zone Intl knows (418 here) twice a year
 * over −2000 … 1799 found no change. A zone whose year EARLY_YEAR has a transition is scanned
 * year by year as any other.
 */
const EARLY_YEAR = 1800;
/**
 * From CYCLE_FROM on a zone's rules repeat every 400 years: every zone is on its final rules
 * (which Intl applies for ever) long before, and the Gregorian calendar repeats exactly every
 * 400 years (146,097 days, whole weeks), so a year's transitions are those 400 years earlier,
 * shifted. Together these bound the years a zone ever scans to EARLY_YEAR … CYCLE_FROM: a
 * bucketed range over millennia scanned every year of it, ~2 ms each on the coordinating thread.
 */
const CYCLE_FROM = 2800;
const CYCLE_YEARS = 400;
const CYCLE_MS = 146_097 * DAY_MS;

/** Offsets and transitions of one zone, cached per UTC year. */
export class TimeZoneRules {
  readonly tz: string;
  private readonly years = new Map<number, YearRules>();
  private readonly fixedZero: boolean;

  constructor(tz: string) {
    this.tz = tz;
    this.fixedZero = FIXED_ZERO.has(tz);
  }

  private year(y: number): YearRules {
    let r = this.years.get(y);
    if (r !== undefined) return r;
    if (this.fixedZero) r = { initialOffsetMs: 0, atMs: [], offsetMs: [] };
    else if (y < EARLY_YEAR) {
      const first = this.year(EARLY_YEAR);
      r = first.atMs.length === 0 ? { initialOffsetMs: first.initialOffsetMs, atMs: [], offsetMs: [] } : this.scanYear(y);
    } else if (y >= CYCLE_FROM) {
      const back = Math.floor((y - CYCLE_FROM) / CYCLE_YEARS) + 1;
      const same = this.year(y - back * CYCLE_YEARS);
      r = { initialOffsetMs: same.initialOffsetMs, atMs: same.atMs.map((t) => t + back * CYCLE_MS), offsetMs: same.offsetMs };
    } else r = this.scanYear(y);
    this.years.set(y, r);
    return r;
  }

  private scanYear(y: number): YearRules {
    const start = yearStartMs(y);
    const end = yearStartMs(y + 1);
    const initial = intlOffsetMs(this.tz, start);
    const atMs: number[] = [];
    const offsetMs: number[] = [];
    let prevT = start;
    let prevOff = initial;
    for (let t = Math.min(start + DAY_MS, end); ; t = Math.min(t + DAY_MS, end)) {
      const off = intlOffsetMs(this.tz, t === end ? end - 1 : t);
      if (off !== prevOff) {
        // The change lies in (prevT, t]: bisect to the millisecond.
        let lo = prevT;
        let hi = t === end ? end - 1 : t;
        while (hi - lo > 1) {
          const mid = Math.floor((lo + hi) / 2);
          if (intlOffsetMs(this.tz, mid) === prevOff) lo = mid;
          else hi = mid;
        }
        atMs.push(hi);
        offsetMs.push(off);
        prevOff = off;
      }
      prevT = t;
      if (t >= end) break;
    }
    return { initialOffsetMs: initial, atMs, offsetMs };
  }

  /** Offset (local − UTC, ms) in force at instant `t`. */
  offsetAt(t: number): number {
    const r = this.year(ruleYear(t));
    let off = r.initialOffsetMs;
    for (let i = 0; i < r.atMs.length && r.atMs[i] <= t; i++) off = r.offsetMs[i];
    return off;
  }

  /** Constant-offset intervals covering [loMs, hiMs), in order; the first and last are clipped. */
  intervals(loMs: number, hiMs: number): OffsetInterval[] {
    const out: OffsetInterval[] = [];
    let cur = loMs;
    let off = this.offsetAt(loMs);
    const y0 = ruleYear(loMs);
    const y1 = ruleYear(hiMs - 1);
    for (let y = y0; y <= y1; y++) {
      const r = this.year(y);
      // A change at the very start of the year (Lisbon, 1912) is its initial offset, not in atMs.
      const yearStart = yearStartMs(y);
      if (r.initialOffsetMs !== off && yearStart > cur && yearStart < hiMs) {
        out.push({ startMs: cur, endMs: yearStart, offsetMs: off });
        cur = yearStart;
        off = r.initialOffsetMs;
      }
      for (let i = 0; i < r.atMs.length; i++) {
        const at = r.atMs[i];
        if (at <= cur) continue;
        if (at >= hiMs) break;
        out.push({ startMs: cur, endMs: at, offsetMs: off });
        cur = at;
        off = r.offsetMs[i];
      }
    }
    out.push({ startMs: cur, endMs: hiMs, offsetMs: off });
    return out;
  }
}

const rulesByZone = new Map<string, TimeZoneRules>();

/** The (cached) rules of a canonical zone name. */
export function timeZoneRules(tz: string): TimeZoneRules {
  let r = rulesByZone.get(tz);
  if (r === undefined) {
    r = new TimeZoneRules(tz);
    rulesByZone.set(tz, r);
  }
  return r;
}
