/**
 * Store.open on a directory it cannot create: a path whose parent exists but refuses children
 * (under /proc, where Node's recursive mkdir retries forever) or that is a file. It must fail at
 * once with IO_ERROR naming the directory, not hang; missing parents of a normal path are made.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Store } from '../../engine/index.js';
import { tempDir } from './helpers.js';

describe('Store.open on a data directory', () => {
  it('creates missing parents, and fails fast naming a directory it cannot create', async () => {
    const { dir, cleanup } = tempDir('shoal-open-');
    try {
      const nested = join(dir, 'a', 'b', 'c');
      const store = await Store.open(nested, { log: () => {} });
      await store.close();
      const file = join(dir, 'file');
      writeFileSync(file, 'x');
      for (const bad of ['/proc/shoal-no/such', join(file, 'data')]) {
        await expect(Store.open(bad, { log: () => {} })).rejects.toMatchObject({ code: 'IO_ERROR', message: expect.stringContaining(`I/O error on ${bad}: `) as string });
      }
    } finally {
      cleanup();
    }
  }, 20_000);
});
