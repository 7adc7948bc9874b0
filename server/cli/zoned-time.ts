/**
 * Times for reading in the CLI: ISO-8601 in the query's time zone with its UTC offset
 * ("2026-11-02T00:00:00.000-05:00"), so a day bucket in New York reads as its local midnight;
 * UTC (and any instant a zone cannot show as whole minutes of offset) keeps the `Z` form.
 */

const formatters = new Map<string, Intl.DateTimeFormat | null>();

function formatterOf(tz: string): Intl.DateTimeFormat | null {
  let f = formatters.get(tz);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat('en-US', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    } catch {
      f = null; // not a zone Intl knows: UTC
    }
    formatters.set(tz, f);
  }
  return f;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/** `ms` (epoch milliseconds) as ISO-8601 in `tz` with its offset; UTC as `…Z`. */
export function isoInZone(ms: number, tz: string | undefined): string {
  const utc = new Date(ms).toISOString();
  if (tz === undefined || tz === 'UTC' || tz === 'Etc/UTC') return utc;
  const f = formatterOf(tz);
  if (f === null) return utc;
  const p = Object.fromEntries(f.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
  const year = Number(p.year);
  const millis = ((ms % 1000) + 1000) % 1000;
  const wallMs = Date.UTC(year, Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second), millis);
  const offsetMs = wallMs - ms;
  // Years outside 1–9999 and offsets in seconds (local mean time before 1900) stay in UTC.
  if (!(year >= 1 && year <= 9999) || offsetMs % 60_000 !== 0 || Number.isNaN(offsetMs)) return utc;
  const offsetMin = Math.abs(offsetMs / 60_000);
  const sign = offsetMs < 0 ? '-' : '+';
  return `${pad(year, 4)}-${p.month}-${p.day}T${p.hour}:${p.minute}:${p.second}.${pad(millis, 3)}${sign}${pad(Math.floor(offsetMin / 60))}:${pad(offsetMin % 60)}`;
}
