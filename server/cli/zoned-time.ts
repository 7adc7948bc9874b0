/**
 * Times for reading in the CLI: ISO-8601 in the query's time zone with its UTC offset
 * ("2026-11-02T00:00:00.000-05:00"), so a day bucket in New York reads as its local midnight;
 * UTC (and any instant a zone cannot show as whole minutes of offset) keeps the `Z` form. The
 * offset is the engine's, which its buckets use (engine/query/tz.ts).
 */
import { canonicalTimeZone, timeZoneRules } from '../../engine/query/tz.js';

const pad = (n: number): string => String(n).padStart(2, '0');

/** `ms` (epoch milliseconds) as ISO-8601 in `tz` with its offset; UTC as `…Z`. */
export function isoInZone(ms: number, tz: string | undefined): string {
  const utc = new Date(ms).toISOString();
  const zone = tz === undefined ? null : canonicalTimeZone(tz);
  if (zone === null || zone === 'UTC' || zone === 'Etc/UTC') return utc; // unknown to Intl: UTC
  const offsetMs = timeZoneRules(zone).offsetAt(ms);
  const wall = new Date(ms + offsetMs);
  const year = wall.getUTCFullYear();
  // Years outside 1–9999 and offsets in seconds (local mean time before 1900) stay in UTC.
  if (!(year >= 1 && year <= 9999) || offsetMs % 60_000 !== 0) return utc;
  const offsetMin = Math.abs(offsetMs) / 60_000;
  return `${wall.toISOString().slice(0, 23)}${offsetMs < 0 ? '-' : '+'}${pad(Math.floor(offsetMin / 60))}:${pad(offsetMin % 60)}`;
}
