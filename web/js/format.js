// @ts-check
/**
 * How values read on the page: counts with separators, durations in ms/s/min/h, fractions as
 * percentages, bucket starts in the chosen zone, and the unit a measure is in. Pure: no DOM.
 */

const INT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const DEC = new Intl.NumberFormat('en-US', { maximumFractionDigits: 2 });
const COMPACT = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

/** @typedef {'count' | 'ms' | 'fraction' | 'number'} Unit */

/**
 * A number for a table cell: integers with separators, others to 2 decimals; null as an em dash.
 * @param {unknown} v
 */
export function formatNumber(v) {
  if (v === null || v === undefined) return '—';
  if (typeof v !== 'number') return String(v);
  if (!Number.isFinite(v)) return String(v);
  return Number.isInteger(v) ? INT.format(v) : DEC.format(v);
}

/** A number for an axis tick: compact (1.2K, 3.4M). @param {number} v */
export function formatCompact(v) {
  return Math.abs(v) < 1000 ? DEC.format(v) : COMPACT.format(v);
}

/**
 * A duration in ms, in the largest unit that keeps it readable: "850 ms", "1.25 s", "3.5 min",
 * "2.1 h", "3.2 d".
 * @param {number | null | undefined} ms
 */
export function formatDuration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const a = Math.abs(ms);
  if (a < 1000) return `${DEC.format(ms)} ms`;
  if (a < 60_000) return `${DEC.format(ms / 1000)} s`;
  if (a < 3_600_000) return `${DEC.format(ms / 60_000)} min`;
  if (a < 86_400_000) return `${DEC.format(ms / 3_600_000)} h`;
  return `${DEC.format(ms / 86_400_000)} d`;
}

/** A fraction (0.425) as a percentage ("42.5%"). @param {number | null | undefined} f */
export function formatPercent(f) {
  if (f === null || f === undefined || !Number.isFinite(f)) return '—';
  const pct = f * 100;
  return `${pct >= 10 || pct === 0 ? pct.toFixed(1) : pct.toFixed(2)}%`;
}

/**
 * A value in its unit, for cells and legends.
 * @param {unknown} v
 * @param {Unit} unit
 */
export function formatValue(v, unit) {
  if (typeof v !== 'number') return v === null || v === undefined ? '—' : String(v);
  if (unit === 'ms') return formatDuration(v);
  if (unit === 'fraction') return formatPercent(v);
  return formatNumber(v);
}

/**
 * The unit of a measure by its name: counts (count, uniq, session/actor counts), ms (latency-like
 * columns ending in _ms, session duration, time-to-convert), fractions (conversion), else number.
 * @param {string} name  e.g. "p99(latency_ms)", "count", "step2_median_ms"
 * @returns {Unit}
 */
export function unitOf(name) {
  if (name === 'count' || name.startsWith('uniq(')) return 'count';
  if (/_conversion$/.test(name)) return 'fraction';
  const inner = /\(([^)]*)\)$/.exec(name)?.[1] ?? name;
  if (/(_ms|Ms|_millis)$/.test(inner) || inner === 'duration' || /_(median|p\d+)_ms$/.test(name)) return 'ms';
  if (/^(step\d+|period\d+)$/.test(name)) return 'count';
  return 'number';
}

/**
 * A y-axis label: the measure's name ("Events", "Unique users" are counts), with "(%)" for
 * fractions. Durations need no suffix: their ticks carry the unit ("850 ms", "1.5 s").
 * @param {string} what  the measure's label (measureLabel)
 * @param {Unit} unit
 */
export function axisLabel(what, unit) {
  return unit === 'fraction' && !what.endsWith('(%)') ? `${what} (%)` : what;
}

/**
 * A human name for a measure as the API writes it.
 * @param {string} name
 * @param {string} actorWord  what an actor is called ("users")
 * @param {string} countWord  what `count` counts ("Events", "Sessions")
 */
export function measureLabel(name, actorWord = 'users', countWord = 'Events') {
  if (name === 'count') return countWord;
  if (name === 'uniq($actor)') return `Unique ${actorWord}`;
  const m = /^([a-z]\w*(?:\.\d+)?)\((.*)\)$/.exec(name);
  if (!m) return name;
  const [, fn, col] = m;
  const label = { uniq: 'Unique values of', sum: 'Sum of', avg: 'Average', min: 'Min', max: 'Max', median: 'Median' }[fn];
  return label ? `${label} ${col}` : `${fn} of ${col}`;
}

/**
 * A bucket start in a zone, as precise as the bucket: "Nov 3" for days, "Nov 3 14:00" for hours.
 * @param {number} ms
 * @param {string} tz
 * @param {string | null} bucket
 */
export function formatBucket(ms, tz, bucket) {
  /** @type {Intl.DateTimeFormatOptions} */
  const opts = { timeZone: tz, month: 'short', day: 'numeric' };
  if (bucket === '1mo') Object.assign(opts, { year: 'numeric', day: undefined });
  else if (bucket === '1d' || bucket === '1w') Object.assign(opts, { year: 'numeric' });
  else Object.assign(opts, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  return new Intl.DateTimeFormat('en-US', opts).format(new Date(ms));
}

/**
 * A bucket width in words: "1d" → "day", "3h" → "3 hours", "15m" → "15 minutes".
 * @param {string} bucket
 */
export function bucketWords(bucket) {
  const m = /^(\d+)(mo|m|h|d|w)$/.exec(bucket);
  if (!m) return bucket;
  const unit = /** @type {Record<string, string>} */ ({ m: 'minute', h: 'hour', d: 'day', w: 'week', mo: 'month' })[m[2]];
  return m[1] === '1' ? unit : `${m[1]} ${unit}s`;
}

/** A full timestamp in a zone: "Nov 3, 2026, 14:05:09". @param {number} ms @param {string} tz */
export function formatTimestamp(ms, tz) {
  return new Intl.DateTimeFormat('en-US', {
    timeZone: tz, year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23',
  }).format(new Date(ms));
}

/**
 * A range's ends for titles, to the minute: "Nov 24, 21:53 – Dec 1, 21:53", with years when the
 * range is not within the current year (the query panel has the exact bounds).
 * @param {number} fromMs
 * @param {number} toMs
 * @param {string} tz
 * @param {number} [nowMs]
 */
export function formatSpan(fromMs, toMs, tz, nowMs = Date.now()) {
  const year = (/** @type {number} */ ms) => new Intl.DateTimeFormat('en-US', { timeZone: tz, year: 'numeric' }).format(new Date(ms));
  const withYear = year(fromMs) !== year(nowMs) || year(toMs) !== year(nowMs);
  /** @type {Intl.DateTimeFormatOptions} */
  const opts = { timeZone: tz, month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', ...(withYear ? { year: 'numeric' } : {}) };
  const fmt = new Intl.DateTimeFormat('en-US', opts);
  return `${fmt.format(new Date(fromMs))} – ${fmt.format(new Date(toMs))}`;
}

/** "3 min ago", "2 d ago". @param {number} seconds */
export function formatAgo(seconds) {
  if (seconds < 60) return `${Math.round(seconds)} s ago`;
  return `${formatDuration(seconds * 1000).replace(/\.\d+/, '')} ago`;
}

/** "1.4 MB". @param {number} bytes */
export function formatBytes(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${DEC.format(v)} ${units[i]}`;
}
