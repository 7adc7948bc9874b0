/**
 * `validateBehavioral`: the JSON of a `funnel`, `sessions`, `retention` or `paths` query →
 * its validated form (behavioral/query-types.ts), or a ShoalError whose `path` names the bad
 * part (`steps[2][1]`, `exclude[0].after`, `measures[1]`, …). Unknown fields are errors.
 */
import { ShoalError } from '../../errors.js';
import { DEFAULT_LIMIT, MAX_LIMIT, type FilterNode, type GroupKey, type MeasureSpec, type SchemaInfo } from '../query-types.js';
import { bad, bucketOf, checkFields, checkGroupNames, columnList, measureNames, limitOf, orderByOf, timeRange, tzOf } from '../validate.js';
import { resolveColumn, validateWhere } from '../validate-filter.js';
import {
  DEFAULT_GAP_MS, DEFAULT_WINDOW_MS, MAX_FUNNEL_EXCLUSIONS, MAX_FUNNEL_STEPS, MAX_PATH_DEPTH, MAX_RETENTION_PERIODS,
  type BehavioralQuery, type FunnelExclusion, type FunnelQuery, type PathsQuery, type RetentionQuery, type SessionsQuery,
} from './query-types.js';
import { durationMs, filterAt, intIn, oneOf, otherOf } from './validate-common.js';

const BASE_FIELDS = ['table', 'kind', 'from', 'to', 'where', 'tz'];
const FIELDS = {
  funnel: new Set([...BASE_FIELDS, 'steps', 'window', 'mode', 'exclude', 'groupBy', 'bucket', 'limit', 'other']),
  sessions: new Set([...BASE_FIELDS, 'gap', 'maxDuration', 'measures', 'groupBy', 'bucket', 'orderBy', 'limit', 'other']),
  retention: new Set([...BASE_FIELDS, 'start', 'return', 'period', 'periods', 'groupBy', 'limit']),
  paths: new Set([...BASE_FIELDS, 'node', 'start', 'direction', 'depth', 'gap', 'limit']),
};

type Raw = Record<string, unknown>;

function base(q: Raw, info: SchemaInfo): { table: string; fromMs: number | null; toMs: number | null; where: FilterNode; tz: string } {
  return { table: q.table as string, ...timeRange(q), where: validateWhere(q.where, info), tz: tzOf(q.tz) };
}

function exclusions(raw: unknown, steps: number, info: SchemaInfo): FunnelExclusion[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw bad('"exclude" is a list of {"filter": f, "after": i, "before": j}', 'exclude');
  if (raw.length > MAX_FUNNEL_EXCLUSIONS) throw bad(`"exclude" takes at most ${MAX_FUNNEL_EXCLUSIONS} entries`, 'exclude');
  return raw.map((e, i) => {
    const path = `exclude[${i}]`;
    if (e === null || typeof e !== 'object' || Array.isArray(e)) throw bad('expected {"filter": f, "after": i, "before": j}', path);
    const x = e as Raw;
    for (const k of Object.keys(x)) if (k !== 'filter' && k !== 'after' && k !== 'before') throw bad(`unknown field "${k}"; use filter, after, before`, `${path}.${k}`);
    const after = intIn(x.after, 1, steps - 1, null, `${path}.after`);
    const before = intIn(x.before, after + 1, steps, null, `${path}.before`);
    return { filter: filterAt(x.filter, info, `${path}.filter`), after, before };
  });
}

/** The columns a funnel of `steps` steps generates (finalize-funnel.ts), for checkGroupNames. */
function funnelColumns(steps: number): Map<string, string> {
  const names = new Map<string, string>();
  for (let k = 1; k <= steps; k++) {
    for (const name of [`step${k}`, `step${k}_conversion`, ...(k >= 2 ? [`step${k}_median_ms`, `step${k}_p90_ms`] : [])]) names.set(name, "the funnel's column");
  }
  return names;
}

function validateFunnel(q: Raw, info: SchemaInfo): FunnelQuery {
  checkFields(q, FIELDS.funnel, 'funnel');
  const b = base(q, info);
  if (!Array.isArray(q.steps) || q.steps.length < 2 || q.steps.length > MAX_FUNNEL_STEPS) {
    throw bad(`"steps" is a list of 2 to ${MAX_FUNNEL_STEPS} filters`, 'steps');
  }
  const steps = q.steps.map((s, i) => filterAt(s, info, `steps[${i}]`));
  const mode = oneOf(q.mode, ['ordered', 'strict', 'any'] as const, 'ordered', 'mode');
  const exclude = exclusions(q.exclude, steps.length, info);
  if (mode === 'any' && exclude.length > 0) throw bad('"exclude" needs an ordered or strict funnel; in mode "any" steps have no order to exclude between', 'exclude');
  const groupBy = columnList(q.groupBy, info, 'groupBy');
  checkGroupNames(groupBy, funnelColumns(steps.length));
  return {
    kind: 'funnel', ...b, steps, mode, exclude,
    windowMs: durationMs(q.window, DEFAULT_WINDOW_MS, 'window'),
    groupBy,
    bucket: bucketOf(q.bucket),
    limit: limitOf(q.limit, DEFAULT_LIMIT, MAX_LIMIT),
    other: otherOf(q.other),
  };
}

const SESSION_MEASURE = /^(count|uniq|sum|avg|min|max|median|p\d{1,2}(?:\.\d{1,6})?)\s*\(\s*(.*?)\s*\)$/;
const SESSION_HINT = 'use count, uniq($actor), or sum/avg/min/max/median/pNN of duration or events, e.g. "p90(duration)"';

function sessionMeasure(raw: unknown, info: SchemaInfo, path: string): MeasureSpec {
  if (typeof raw !== 'string') throw new ShoalError('BAD_MEASURE', [String(JSON.stringify(raw)), SESSION_HINT], path);
  const text = raw.trim();
  if (text === 'count' || text === 'count()') return { name: raw, fn: 'count', column: null, q: null };
  const m = SESSION_MEASURE.exec(text);
  if (m === null) throw new ShoalError('BAD_MEASURE', [raw, SESSION_HINT], path);
  const [, fn, arg] = m;
  if (fn === 'uniq' || fn === 'count') {
    if (resolveColumn(arg, info).kind !== 'actor') throw new ShoalError('BAD_MEASURE', [raw, `sessions count ${fn === 'uniq' ? 'distinct actors with uniq($actor)' : 'with count'}; ${SESSION_HINT}`], path);
    return fn === 'uniq' ? { name: raw, fn: 'uniq', column: { kind: 'actor' }, q: null } : { name: raw, fn: 'count', column: null, q: null };
  }
  const field = arg.startsWith('$session.') ? arg.slice(9) : arg;
  if (field !== 'duration' && field !== 'events') throw new ShoalError('BAD_MEASURE', [raw, `sessions measure the session fields duration and events; ${SESSION_HINT}`], path);
  const column = { kind: 'column' as const, name: field, type: 'number' as const };
  if (fn === 'median' || fn.startsWith('p')) {
    const pct = fn === 'median' ? 50 : Number(fn.slice(1));
    if (!(pct > 0 && pct < 100)) throw new ShoalError('BAD_MEASURE', [raw, SESSION_HINT], path);
    return { name: raw, fn: 'quantile', column, q: Number((pct / 100).toFixed(10)) };
  }
  return { name: raw, fn: fn as MeasureSpec['fn'], column, q: null };
}

function validateSessions(q: Raw, info: SchemaInfo): SessionsQuery {
  checkFields(q, FIELDS.sessions, 'sessions');
  const b = base(q, info);
  let measures: MeasureSpec[] = [{ name: 'count', fn: 'count', column: null, q: null }];
  if (q.measures !== undefined && q.measures !== null) {
    if (!Array.isArray(q.measures) || q.measures.length === 0 || q.measures.length > 100) {
      throw new ShoalError('BAD_MEASURE', [String(JSON.stringify(q.measures)), 'measures is a list of 1 to 100 measures'], 'measures');
    }
    measures = q.measures.map((m, i) => sessionMeasure(m, info, `measures[${i}]`));
  }
  const groupBy = columnList(q.groupBy, info, 'groupBy');
  checkGroupNames(groupBy, measureNames(measures));
  const bucket = bucketOf(q.bucket);
  const names = new Set<string>([...(bucket !== null ? ['$bucket'] : []), ...groupBy.map((g) => g.name), ...measures.map((m) => m.name)]);
  return {
    kind: 'sessions', ...b,
    gapMs: durationMs(q.gap, DEFAULT_GAP_MS, 'gap'),
    maxDurationMs: q.maxDuration === undefined || q.maxDuration === null ? null : durationMs(q.maxDuration, 0, 'maxDuration'),
    measures, groupBy, bucket,
    orderBy: orderByOf(q.orderBy, names, measures, bucket !== null),
    limit: limitOf(q.limit, DEFAULT_LIMIT, MAX_LIMIT),
    other: otherOf(q.other),
  };
}

function validateRetention(q: Raw, info: SchemaInfo): RetentionQuery {
  checkFields(q, FIELDS.retention, 'retention');
  const query: RetentionQuery = {
    kind: 'retention', ...base(q, info),
    start: filterAt(q.start, info, 'start'),
    return: q.return === undefined || q.return === null ? { kind: 'const', value: true } : filterAt(q.return, info, 'return'),
    period: oneOf(q.period, ['1d', '1w', '1mo'] as const, '1d', 'period'),
    periods: intIn(q.periods, 1, MAX_RETENTION_PERIODS, 7, 'periods'),
    groupBy: columnList(q.groupBy, info, 'groupBy'),
    limit: limitOf(q.limit, DEFAULT_LIMIT, MAX_LIMIT),
  };
  // the columns finalize-retention.ts generates
  const generated = ['$cohort', 'cohort_size', ...Array.from({ length: query.periods + 1 }, (_, n) => `period${n}`)];
  checkGroupNames(query.groupBy, new Map(generated.map((name) => [name, "retention's column"])));
  return query;
}

/** The `node` column: one name (errors name the path `node`, not a list position). */
function pathNode(raw: unknown, info: SchemaInfo): GroupKey {
  if (typeof raw !== 'string' || raw.length === 0 || raw === '$bucket') throw bad('"node" names the column whose values are path steps, e.g. "event"', 'node');
  const column = resolveColumn(raw, info);
  if (column.kind === 'column' && column.type === null) throw new ShoalError('UNKNOWN_COLUMN', [raw], 'node');
  return { name: raw, column };
}

function validatePaths(q: Raw, info: SchemaInfo): PathsQuery {
  checkFields(q, FIELDS.paths, 'paths');
  return {
    kind: 'paths', ...base(q, info), node: pathNode(q.node, info),
    start: q.start === undefined || q.start === null ? null : filterAt(q.start, info, 'start'),
    direction: oneOf(q.direction, ['after', 'before'] as const, 'after', 'direction'),
    depth: intIn(q.depth, 1, MAX_PATH_DEPTH, 3, 'depth'),
    gapMs: durationMs(q.gap, DEFAULT_GAP_MS, 'gap'),
    limit: limitOf(q.limit, DEFAULT_LIMIT, MAX_LIMIT),
  };
}

export const BEHAVIORAL_KINDS: readonly string[] = ['funnel', 'sessions', 'retention', 'paths'];

/** Validates a behavioral query (`q.kind` is one of BEHAVIORAL_KINDS; `q.table` is checked). */
export function validateBehavioral(q: Raw, info: SchemaInfo): BehavioralQuery {
  switch (q.kind) {
    case 'funnel': return validateFunnel(q, info);
    case 'sessions': return validateSessions(q, info);
    case 'retention': return validateRetention(q, info);
    default: return validatePaths(q, info);
  }
}

