/**
 * Locates a worker's entry module next to the calling module, so the same code starts workers
 * from the TypeScript sources (vitest, tsx) and from the compiled dist/ (JavaScript).
 *
 * From dist/ the entry is `./NAME.js`, started as is. From sources (`import.meta.url` ends in
 * `.ts`), Node 20 ignores `--import tsx` in a worker's execArgv (nodejs/node#47747), so the
 * worker starts from a tiny data: URL module that registers tsx's loader in the worker and then
 * imports `./NAME.ts`; execArgv stays empty. Used by ingest's parse workers and the engine.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * The URL and execArgv for `new Worker(url, { execArgv })`.
 * @param importMetaUrl the caller's `import.meta.url`
 * @param baseName the entry module's name without extension, e.g. `parse-worker`
 */
export function workerScript(importMetaUrl: string, baseName: string): { url: URL; execArgv: string[] } {
  const name = baseName.replace(/\.(js|ts)$/, '');
  if (!importMetaUrl.endsWith('.ts')) return { url: new URL(`./${name}.js`, importMetaUrl), execArgv: [] };
  const entry = new URL(`./${name}.ts`, importMetaUrl).href;
  const tsxApi = tsxEsmApi(importMetaUrl);
  const boot =
    `const api = await import(${JSON.stringify(tsxApi)});` +
    `(api.register ?? api.default.register)();` +
    `await import(${JSON.stringify(entry)});`;
  return { url: new URL(`data:text/javascript,${encodeURIComponent(boot)}`), execArgv: [] };
}

/** URL of tsx's ESM API (its `import` export; the CommonJS one cannot register from a worker). */
function tsxEsmApi(importMetaUrl: string): string {
  const require = createRequire(importMetaUrl);
  const pkgPath = require.resolve('tsx/package.json');
  const pkg = require(pkgPath) as { exports: Record<string, { import: { default: string } }> };
  return pathToFileURL(join(dirname(pkgPath), pkg.exports['./esm/api'].import.default)).href;
}
