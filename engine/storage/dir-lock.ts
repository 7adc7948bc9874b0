/**
 * One process per data directory: `LOCK` holds the owner's pid, created exclusively. A lock
 * left by a process that no longer runs (a crash) is taken over; a live owner is an error that
 * tells the user to talk to that process instead.
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ShoalError } from '../errors.js';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class DirLock {
  private constructor(private readonly path: string) {}

  static acquire(dir: string): DirLock {
    const path = join(dir, 'LOCK');
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const fd = openSync(path, 'wx');
        writeSync(fd, String(process.pid));
        closeSync(fd);
        return new DirLock(path);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      let owner = NaN;
      try {
        owner = Number(readFileSync(path, 'utf8').trim());
      } catch {
        // vanished between our open and read: try again
      }
      if (Number.isInteger(owner) && owner > 0 && (owner === process.pid || alive(owner))) {
        throw new ShoalError('DATA_DIR_LOCKED', [dir, owner]);
      }
      try {
        unlinkSync(path);
      } catch {
        // another process took it over first; the next attempt decides
      }
    }
    throw new ShoalError('DATA_DIR_LOCKED', [dir, 'unknown']);
  }

  release(): void {
    try {
      unlinkSync(this.path);
    } catch {
      // already removed
    }
  }
}
