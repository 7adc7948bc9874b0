/**
 * Side-by-side aggregate queries (issue 3): the same generated events in Shoal, DuckDB and chDB,
 * the suite of bench/peers/query-suite.ts, cold and hot times, ratios and answer checks.
 *
 *   npm run bench:query -- [--events 10e6] [--seed 1] [--runs 5] [--engines shoal,duckdb,chdb]
 *                          [--queries id,…] [--work DIR] [--no-drop-caches] [--no-pool] [--clean]
 *
 * Loaded stores are cached in bench/out/query-stores-<N>/ (shared with the behavioral
 * comparison) until the input changes; --clean deletes them at the end. Results:
 * bench/results/query-<N>.{json,md}. How it measures: bench/peers/harness.ts.
 */
import { runComparison } from './peers/harness.js';

runComparison('query', process.argv.slice(2)).then(
  (md) => process.stdout.write(md),
  (err: unknown) => {
    process.stderr.write(`query-compare: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
