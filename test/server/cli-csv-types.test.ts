/**
 * CSV columns a table already has are read as the table's type: a later file (in the same run or
 * a later one) whose first values look different conflicts only where a value does not fit, not
 * on every row, as it would if each file's types were inferred on their own.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { Store, tableStats } from '../../engine/index.js';
import { runIngestCommand } from '../../server/cli/ingest-command.js';
import { tempDir } from '../storage/helpers.js';

const T0 = Date.UTC(2026, 9, 1);
const quiet = new Writable({ write: (_c, _e, done) => done() });

/** A CSV file of `rows` events whose `zip` values come from `zip(i)`. */
function csvFile(path: string, rows: number, zip: (i: number) => string): string {
  let text = 'user_id,time,zip,flag\n';
  for (let i = 0; i < rows; i++) text += `u${i % 20},${T0 + i},${zip(i)},${i % 2 === 0 ? 'true' : 'false'}\n`;
  writeFileSync(path, text);
  return path;
}

describe('shoal ingest of CSV into a table that has the columns', () => {
  it('reads later files by the table types, in one run and in a later run', async () => {
    const { dir, cleanup } = tempDir('shoal-csv-types-');
    try {
      const data = join(dir, 'data');
      const numbers = csvFile(join(dir, 'a.csv'), 100, (i) => String(10000 + i));
      // Every value of the column is "02134"-like here (a string alone), a few are numbers.
      const mixed = csvFile(join(dir, 'b.csv'), 100, (i) => (i % 10 === 0 ? String(20000 + i) : '02134'));
      const first = await runIngestCommand({ files: [numbers, mixed], table: 't', dataDir: data, out: quiet });
      expect(first).toMatchObject({ accepted: 200, rejected: 0, typeErrors: 90 });
      const again = await runIngestCommand({ files: [mixed], table: 't', dataDir: data, out: quiet });
      expect(again).toMatchObject({ accepted: 100, rejected: 0, typeErrors: 90 });
      const store = await Store.open(data);
      try {
        const columns = tableStats(store.get('t')).columns;
        expect(columns.find((c) => c.name === 'zip')).toMatchObject({ type: 'number', typeErrors: 180 });
        expect(columns.find((c) => c.name === 'flag')).toMatchObject({ type: 'boolean', typeErrors: 0 });
      } finally {
        await store.close(false);
      }
    } finally {
      cleanup();
    }
  });
});
