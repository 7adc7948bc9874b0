/**
 * Whether two engines' normalized answers to one suite query agree, within each value's
 * tolerance (suite.ts). Differences are returned as short readable lines, never thrown: the
 * comparison reports mismatches beside the times instead of hiding them.
 */
import type { Row, SuiteQuery, Tolerance } from './suite.js';

const REL = { exact: 0, float: 1e-6, quantile: 0.05 } as const satisfies Record<Tolerance, number>;

/** Whether `a` and `b` agree within `tol`. */
export function close(a: number | null, b: number | null, tol: Tolerance): boolean {
  if (a === null || b === null) return a === b;
  if (tol === 'exact') return a === b;
  return Math.abs(a - b) <= REL[tol] * Math.max(Math.abs(a), Math.abs(b));
}

const isEmpty = (row: Row, keys: number): boolean => row.slice(keys).every((v) => v === null || v === 0);
const show = (v: string | number | null): string => (typeof v === 'number' ? String(Math.round(v * 1000) / 1000) : String(v));

/** Up to `max` lines describing how `b` differs from `a` (empty: they agree). */
export function differences(q: SuiteQuery, a: Row[], b: Row[], max = 4): string[] {
  const out: string[] = [];
  if (q.compare === 'topValues') {
    const top = (rows: Row[]): number[] => rows.map((r) => r[q.keys] as number).sort((x, y) => y - x);
    const [ta, tb] = [top(a), top(b)];
    if (ta.length !== tb.length) out.push(`${ta.length} vs ${tb.length} rows`);
    for (let i = 0; i < Math.min(ta.length, tb.length) && out.length < max; i++) {
      if (!close(ta[i], tb[i], q.values[0].tol)) out.push(`#${i + 1} ${q.values[0].name}: ${show(ta[i])} vs ${show(tb[i])}`);
    }
    return out;
  }
  const byKey = (rows: Row[]): Map<string, Row> => new Map(rows.map((r) => [r.slice(0, q.keys).join('\u0001'), r]));
  const [ma, mb] = [byKey(a), byKey(b)];
  const label = (k: string): string => (q.keys === 0 ? 'total' : k.split('\u0001').join('/'));
  for (const [k, ra] of ma) {
    if (out.length >= max) break;
    const rb = mb.get(k);
    // a zero-filled bucket or group (Shoal fills empty buckets) matches a missing row
    if (rb === undefined) {
      if (!isEmpty(ra, q.keys)) out.push(`${label(k)}: only in the first`);
      continue;
    }
    for (let i = 0; i < q.values.length && out.length < max; i++) {
      const [va, vb] = [ra[q.keys + i] as number | null, rb[q.keys + i] as number | null];
      if (!close(va, vb, q.values[i].tol)) out.push(`${label(k)} ${q.values[i].name}: ${show(va)} vs ${show(vb)}`);
    }
  }
  for (const [k, rb] of mb) {
    if (out.length >= max) break;
    if (!ma.has(k) && !isEmpty(rb, q.keys)) out.push(`${label(k)}: only in the second`);
  }
  return out;
}
