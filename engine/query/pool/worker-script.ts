/**
 * Where a query worker's entry module is, so the pool starts workers both from the TypeScript
 * sources (vitest, tsx) and from the compiled dist/ (plain JavaScript). The same approach as
 * ingest's parse workers (ingest/worker-url.ts), kept here so engine/ does not import ingest/.
 *
 * From dist/ the entry is `./NAME.js`. From sources (this module's URL ends in `.ts`), a
 * worker ignores `--import tsx` in its execArgv on Node 20, so it starts from a tiny data: URL
 * module that registers tsx's ESM loader inside the worker and then imports `./NAME.ts`.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The URL for `new Worker(url)` of the entry module `baseName` next to `importMetaUrl`. */
export function workerEntryUrl(importMetaUrl: string, baseName: string): URL {
  if (!importMetaUrl.endsWith('.ts')) return new URL(`./${baseName}.js`, importMetaUrl);
  const entry = new URL(`./${baseName}.ts`, importMetaUrl).href;
  const require = createRequire(importMetaUrl);
  const pkgPath = require.resolve('tsx/package.json');
  const pkg = require(pkgPath) as { exports: Record<string, { import: { default: string } }> };
  const api = pathToFileURL(join(dirname(pkgPath), pkg.exports['./esm/api'].import.default)).href;
  const boot = `const api = await import(${JSON.stringify(api)});(api.register ?? api.default.register)();await import(${JSON.stringify(entry)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(boot)}`);
}
