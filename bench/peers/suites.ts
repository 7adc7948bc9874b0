/** The suites the runner knows, by name: `query` (issue 3) and `behavioral` (issue 4). */
import { BEHAVIORAL_SUITE } from './behavioral-suite.js';
import { QUERY_SUITE } from './query-suite.js';
import type { SuiteQuery } from './suite.js';

export const SUITES: Record<string, SuiteQuery[]> = { query: QUERY_SUITE, behavioral: BEHAVIORAL_SUITE };

/** The query `id` of suite `suite`; throws when either is unknown. */
export function findQuery(suite: string, id: string): SuiteQuery {
  const list = SUITES[suite];
  if (list === undefined) throw new Error(`unknown suite ${suite}; use ${Object.keys(SUITES).join(', ')}`);
  const q = list.find((x) => x.id === id);
  if (q === undefined) throw new Error(`unknown query ${id} in suite ${suite}; use ${list.map((x) => x.id).join(', ')}`);
  return q;
}
