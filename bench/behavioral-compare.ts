/**
 * Side-by-side behavioral queries (issue 4): funnels, sessions, retention and paths on the same
 * generated events in Shoal, DuckDB and chDB, the suite of bench/peers/behavioral-suite.ts, cold and hot times, ratios and answer checks.
 *
 *   npm run bench:behavioral -- [--events 10e6] [--seed 1] [--runs 5] [--engines shoal,duckdb,chdb]
 *                               [--queries id,…] [--work DIR] [--no-drop-caches] [--no-pool] [--clean]
 *
 * Loaded stores are cached in bench/out/query-stores-<N>/ (shared with the aggregate
 * comparison) until the input changes; --clean deletes them at the end. Results:
 * bench/results/behavioral-<N>.{json,md}. How it measures: bench/peers/harness.ts.
 */
import { runComparison } from './peers/harness.js';

runComparison('behavioral', process.argv.slice(2)).then(
  (md) => process.stdout.write(md),
  (err: unknown) => {
    process.stderr.write(`behavioral-compare: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
