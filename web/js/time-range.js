// @ts-check
/**
 * Time ranges: presets (last hour, 24 h, 7 d, 30 d, all data, custom), where a preset ends, the
 * automatic bucket for a range, and wall-clock times in an IANA zone (for the custom inputs).
 *
 * Decision: a preset ends now, unless the table's newest event is older than the preset's start;
 * then it ends at the newest event and the page says so (`notice`), so a table loaded from an old
 * log still shows data on first load instead of an empty chart.
 * Pure: no DOM.
 */

export const PRESET_MS = /** @type {Record<string, number>} */ ({
  '1h': 3_600_000,
  '24h': 86_400_000,
  '7d': 7 * 86_400_000,
  '30d': 30 * 86_400_000,
});

export const PRESET_LABELS = /** @type {Record<string, string>} */ ({
  '1h': 'Last hour',
  '24h': 'Last 24 hours',
  '7d': 'Last 7 days',
  '30d': 'Last 30 days',
  all: 'All data',
  custom: 'Custom',
});

/** Bucket widths the API takes, with their nominal length (calendar units approximated). */
export const BUCKETS = /** @type {[string, number][]} */ ([
  ['1m', 60_000],
  ['5m', 300_000],
  ['15m', 900_000],
  ['30m', 1_800_000],
  ['1h', 3_600_000],
  ['3h', 10_800_000],
  ['6h', 21_600_000],
  ['12h', 43_200_000],
  ['1d', 86_400_000],
  ['1w', 604_800_000],
  ['1mo', 2_629_746_000],
]);

const DAY_MS = 86_400_000;

/** The most points a chart gets from the automatic bucket. */
const MAX_AUTO_BUCKETS = 150;

/**
 * Resolves the state's range to epoch ms.
 * @param {{ range: string, from: number | null, to: number | null }} state
 * @param {{ minTimeMs: number | null, maxTimeMs: number | null } | null} table  the table's listing entry
 * @param {number} nowMs
 * @returns {{ fromMs: number | null, toMs: number | null, notice: string | null }}
 *   null bounds mean "open" (all data); notice explains an anchored preset.
 */
export function resolveRange(state, table, nowMs) {
  if (state.range === 'custom' && state.from !== null && state.to !== null) {
    return { fromMs: state.from, toMs: state.to, notice: null };
  }
  const span = PRESET_MS[state.range];
  if (span === undefined) return { fromMs: null, toMs: null, notice: null };
  const newest = table?.maxTimeMs ?? null;
  if (newest !== null && newest < nowMs - span) {
    // Half-open [from, to): end just after the newest event so it is included.
    const toMs = newest + 1;
    return { fromMs: toMs - span, toMs, notice: 'anchored' };
  }
  return { fromMs: nowMs - span, toMs: nowMs, notice: null };
}

/**
 * The bucket for a chart: the state's choice, or for "auto" the narrowest width that keeps the
 * range under MAX_AUTO_BUCKETS points.
 * @param {string} choice  "auto", "none" or a bucket width
 * @param {number | null} fromMs
 * @param {number | null} toMs
 * @param {{ minTimeMs: number | null, maxTimeMs: number | null } | null} table  bounds an open range
 * @param {number} [maxBuckets]  the most points "auto" may give
 * @returns {string | null}  null for no bucket
 */
export function resolveBucket(choice, fromMs, toMs, table, maxBuckets = MAX_AUTO_BUCKETS) {
  if (choice === 'none') return null;
  if (choice !== 'auto') return choice;
  const lo = fromMs ?? table?.minTimeMs ?? null;
  const hi = toMs ?? (table?.maxTimeMs == null ? null : table.maxTimeMs + 1);
  if (lo === null || hi === null) return '1d';
  const span = Math.max(1, hi - lo);
  for (const [name, width] of BUCKETS) if (span / width <= maxBuckets) return name;
  return '1mo';
}

/**
 * The offset of a zone from UTC at an instant, in ms (positive east of Greenwich).
 * @param {number} epochMs
 * @param {string} tz
 */
export function zoneOffsetMs(epochMs, tz) {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone: tz,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(epochMs));
  /** @type {Record<string, number>} */
  const v = {};
  for (const p of parts) if (p.type !== 'literal') v[p.type] = Number(p.value);
  const asUtc = Date.UTC(v.year, v.month - 1, v.day, v.hour, v.minute, v.second);
  return asUtc - Math.floor(epochMs / 1000) * 1000;
}

/**
 * Epoch ms of a wall-clock time ("2026-11-01T09:30") in a zone. A time skipped by a DST jump
 * resolves to the instant after the jump; a repeated one to its first occurrence.
 * @param {string} wall  as a datetime-local input gives it
 * @param {string} tz
 * @returns {number | null}
 */
export function wallTimeToEpochMs(wall, tz) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(wall);
  if (!m) return null;
  const asUtc = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +(m[6] ?? 0));
  // Near a transition the zone has two offsets within a day: try each (offsets change at most
  // once a day). A repeated time matches twice (take the earlier); a skipped time matches never
  // (take the later guess, which lands after the jump).
  const guesses = [asUtc - DAY_MS, asUtc, asUtc + DAY_MS].map((t) => asUtc - zoneOffsetMs(t, tz));
  const valid = guesses.filter((t) => t + zoneOffsetMs(t, tz) === asUtc);
  return valid.length > 0 ? Math.min(...valid) : Math.max(...guesses);
}

/**
 * The wall-clock time of an instant in a zone, as a datetime-local input takes it.
 * @param {number} epochMs
 * @param {string} tz
 */
export function epochMsToWallTime(epochMs, tz) {
  const d = new Date(epochMs + zoneOffsetMs(epochMs, tz));
  return d.toISOString().slice(0, 16);
}

/**
 * The start of the n-th calendar period after a period start in a zone: days and weeks by the
 * wall clock (a DST day is 23 or 25 hours), months by the calendar (28 to 31 days), as the API
 * counts retention periods.
 * @param {number} startMs  a period start (a local midnight)
 * @param {string} period  "1d", "1w" or "1mo"
 * @param {number} n
 * @param {string} tz
 */
export function periodStartMs(startMs, period, n, tz) {
  const wall = epochMsToWallTime(startMs, tz);
  const [y, m, d] = wall.slice(0, 10).split('-').map(Number);
  const days = period === '1w' ? 7 * n : period === '1mo' ? 0 : n;
  const next = new Date(Date.UTC(y, m - 1 + (period === '1mo' ? n : 0), d + days));
  return wallTimeToEpochMs(`${next.toISOString().slice(0, 10)}${wall.slice(10)}`, tz) ?? startMs;
}
