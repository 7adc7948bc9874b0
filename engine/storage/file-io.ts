/**
 * Small durable-file primitives: write-then-rename for whole files (the manifest), fsync of
 * files and directories, and translation of ENOSPC/EFBIG into the DISK_FULL catalog error.
 *
 * Durability: `writeFileAtomic` returns only after the new content and the directory entry are
 * on disk; a crash leaves either the old file or the new one, never a mix.
 */
import { closeSync, fsyncSync, openSync, renameSync, writeSync, unlinkSync } from 'node:fs';
import { ShoalError } from '../errors.js';

export function isDiskFull(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === 'ENOSPC' || code === 'EFBIG' || code === 'EDQUOT';
}

/** Wraps an I/O failure in a catalog error naming the file. */
export function ioError(err: unknown, file: string): ShoalError {
  if (err instanceof ShoalError) return err;
  if (isDiskFull(err)) return new ShoalError('DISK_FULL', [file]);
  return new ShoalError('IO_ERROR', [file, (err as Error)?.message ?? String(err)]);
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes all of `data` to `fd` at the current position (or at `position`), looping on short writes. */
export function writeAll(fd: number, data: Uint8Array, position?: number): void {
  let done = 0;
  while (done < data.length) {
    const n = writeSync(fd, data, done, data.length - done, position === undefined ? null : position + done);
    done += n;
  }
}

/** Replaces `path` atomically and durably with `data`. */
export function writeFileAtomic(path: string, data: Uint8Array, dir: string): void {
  const tmp = `${path}.tmp`;
  try {
    const fd = openSync(tmp, 'w');
    try {
      writeAll(fd, data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    fsyncDir(dir);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // the temp file may not exist; nothing else to undo
    }
    throw ioError(err, path);
  }
}
