/**
 * Validation pieces shared by the behavioral kinds: durations (`30m`, `7d`, or ms), filters
 * given in fields other than `where` (their error paths name that field), integers in range,
 * and the allowed values of enumerations.
 */
import { ShoalError } from '../../errors.js';
import type { FilterNode, SchemaInfo } from '../query-types.js';
import { bad } from '../validate.js';
import { validateWhere } from '../validate-filter.js';

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const MAX_DURATION_MS = 366 * 86_400_000;

/**
 * A duration: a string like `"30m"`, `"1.5h"`, `"7d"` (units ms s m h d w) or a number of
 * milliseconds; at most 366 days. Returns `dflt` when absent.
 */
export function durationMs(v: unknown, dflt: number, field: string): number {
  if (v === undefined || v === null) return dflt;
  let ms = NaN;
  if (typeof v === 'number') ms = v;
  else if (typeof v === 'string') {
    const m = DURATION.exec(v.trim());
    if (m !== null) ms = Math.round(Number(m[1]) * UNIT_MS[m[2]]);
  }
  if (!(Number.isFinite(ms) && ms >= 0 && ms <= MAX_DURATION_MS && Number.isInteger(ms))) {
    throw bad(`"${field}" is a duration such as "30m", "24h" or "7d" (units ms s m h d w), or whole milliseconds, up to 366d; got ${JSON.stringify(v)}`, field);
  }
  return ms;
}

/** Validates a filter given in `field` (error paths start with that field, not `where`). */
export function filterAt(raw: unknown, info: SchemaInfo, field: string): FilterNode {
  if (raw === undefined || raw === null) throw bad(`"${field}" needs a filter, such as ["event", "=", "signup"]`, field);
  try {
    return validateWhere(raw, info);
  } catch (e) {
    if (!(e instanceof ShoalError) || e.path === undefined) throw e;
    const moved = new ShoalError(e.code, [], e.path.startsWith('where') ? field + e.path.slice(5) : `${field}.${e.path}`);
    moved.message = e.message;
    throw moved;
  }
}

/** An integer in [min, max], or `dflt` when absent. */
export function intIn(v: unknown, min: number, max: number, dflt: number | null, field: string): number {
  if ((v === undefined || v === null) && dflt !== null) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw bad(`"${field}" is an integer from ${min} to ${max}, got ${JSON.stringify(v)}`, field);
  return v;
}

/** One of `allowed`, or `dflt` when absent. */
export function oneOf<T extends string>(v: unknown, allowed: readonly T[], dflt: T, field: string): T {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw bad(`"${field}" is one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${JSON.stringify(v)}`, field);
  }
  return v as T;
}

/** `other` is optional and boolean (null: absent, as for every field). */
export function otherOf(v: unknown): boolean {
  if (v !== undefined && v !== null && typeof v !== 'boolean') throw bad('"other" is true or false', 'other');
  return v === true;
}
