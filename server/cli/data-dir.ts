/**
 * The data directory a command works on: `--data`, else $SHOAL_DATA, else ./data. Commands that
 * only read (query, tables) need it to exist, so a mistyped path is an error naming it rather
 * than a new empty directory and "no tables"; commands that write create it.
 */
import { statSync } from 'node:fs';
import { ShoalError } from '../../engine/errors.js';
import { Store, type StoreOptions } from '../../engine/storage/store.js';
import { makeDirs } from '../../engine/storage/file-io.js';

const HINT = '(give --data DIR or set SHOAL_DATA)';

/** The data directory from `--data`, $SHOAL_DATA (empty counts as unset, as shells treat it) or the default. */
export function dataDirOf(data: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return data ?? (env.SHOAL_DATA || './data');
}

/**
 * Throws IO_ERROR naming `dir` when it is not a directory; with `mustExist`, also when it is
 * missing, else (a command that writes) creates it.
 */
export function checkDataDir(dir: string, mustExist: boolean): void {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(dir).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new ShoalError('IO_ERROR', [dir, `a part of the path is a file, not a directory ${HINT}`]);
    if (code !== 'ENOENT') throw new ShoalError('IO_ERROR', [dir, (err as Error).message]);
    if (mustExist) throw new ShoalError('IO_ERROR', [dir, `no data directory there ${HINT}`]);
    try {
      makeDirs(dir);
    } catch (cause) {
      throw new ShoalError('IO_ERROR', [dir, `cannot create the data directory: ${(cause as Error).message} ${HINT}`]);
    }
    return;
  }
  if (!isDirectory) throw new ShoalError('IO_ERROR', [dir, `not a directory ${HINT}`]);
}

/**
 * Opens the store in `dir`. A failure of the file system there (no lock file can be made under
 * /proc, a directory without write access) is IO_ERROR naming the data directory, like the
 * checks above, rather than Node's bare "ENOENT: … open '/proc/LOCK'".
 */
export async function openStore(dir: string, opts?: StoreOptions): Promise<Store> {
  try {
    return await Store.open(dir, opts);
  } catch (err) {
    if (err instanceof ShoalError || typeof (err as NodeJS.ErrnoException).errno !== 'number') throw err;
    throw new ShoalError('IO_ERROR', [dir, `cannot open the data directory: ${(err as Error).message}`]);
  }
}

/**
 * The store's log for a command that reads: damage reports (one per damaged file, so hundreds on
 * a badly damaged store) are cut to the first `keep` and a count, or left out entirely when the
 * command lists them itself (`shoal tables`); other messages pass through.
 */
export function readerLog(keep: number, err: NodeJS.WritableStream = process.stderr): { log: (message: string) => void; finish: () => void } {
  let shown = 0;
  let hidden = 0;
  return {
    log(message) {
      const damage = message.includes(': damaged file ') || message.includes(' could not be opened: ');
      if (damage && shown >= keep) hidden++;
      else {
        if (damage) shown++;
        err.write(`shoal: ${message}\n`);
      }
    },
    finish() {
      if (hidden > 0 && keep > 0) err.write(`shoal: … and ${hidden} more damaged files (shoal tables lists them all)\n`);
    },
  };
}
