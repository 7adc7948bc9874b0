/**
 * The UI is plain JavaScript with JSDoc types (no build step); this runs TypeScript over it with
 * web/tsconfig.json (checkJs, strict, DOM and uPlot types), so a wrong call or a misspelt
 * property fails the suite instead of a user's page.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');

it('type-checks web/js with web/tsconfig.json', () => {
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const run = spawnSync(process.execPath, [tsc, '-p', join(ROOT, 'web', 'tsconfig.json'), '--noUnusedLocals'], { encoding: 'utf8' });
  expect(`${run.stdout}${run.stderr}`).toBe('');
  expect(run.status).toBe(0);
});
