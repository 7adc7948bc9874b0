/**
 * Loads the UI's pure modules (plain ES modules under web/js/, no DOM at import time) into Node
 * tests. The UI is untyped JavaScript checked separately (web/tsconfig.json), so the modules come
 * in as `any` through a computed dynamic import.
 */
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';

const WEB_JS = join(import.meta.dirname, '..', '..', 'web', 'js');

/** Imports web/js/<name>.js. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function webModule(name: string): Promise<any> {
  const href = pathToFileURL(join(WEB_JS, `${name}.js`)).href;
  return import(href);
}
