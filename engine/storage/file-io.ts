/**
 * Small durable-file primitives: write-then-rename for whole files (the manifest), fsync of
 * files and directories, and translation of ENOSPC/EFBIG into the DISK_FULL catalog error.
 *
 * Durability: `writeFileAtomic` returns only after the new content and the directory entry are
 * on disk; a crash leaves either the old file or the new one, never a mix.
 *
 * Fault injection: every data write goes through `writeAll`, so a test (or `SHOAL_FAULT_DISK_BYTES`
 * in a child process) can give the process a byte budget past which writes fail with ENOSPC, as
 * a full disk would, and then lift it to show recovery (test/reliability/disk-full.test.ts).
 */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, statSync, writev, writeSync, unlinkSync } from 'node:fs';
import { dirname } from 'node:path';
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

/**
 * Creates `dir` and its missing parents, one mkdir each. Not `mkdirSync(dir, { recursive: true })`:
 * where a parent exists but cannot hold the child (a path under /proc answers ENOENT), Node's
 * recursive mkdir retries forever and the command hangs with the event loop blocked.
 */
export function makeDirs(dir: string): void {
  try {
    mkdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' && statSync(dir, { throwIfNoEntry: false })?.isDirectory() === true) return;
    const parent = dirname(dir);
    if (code !== 'ENOENT' || parent === dir) throw err;
    makeDirs(parent);
    // Once: if the parent now exists and this still fails, that is the answer.
    try {
      mkdirSync(dir);
    } catch (again) {
      if ((again as NodeJS.ErrnoException).code !== 'EEXIST') throw again;
    }
  }
}

export function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Bytes writes may still use before they fail with ENOSPC; Infinity when no fault is injected. */
let diskBudgetBytes = budgetFromEnv(process.env.SHOAL_FAULT_DISK_BYTES);

function budgetFromEnv(value: string | undefined): number {
  const n = Number(value);
  return value === undefined || value === '' || !Number.isFinite(n) || n < 0 ? Infinity : n;
}

/**
 * Test hook: lets writes use `budgetBytes` more bytes, then fail with ENOSPC (a write that would
 * cross the budget writes what fits first, like a filling disk). `Infinity` removes the fault.
 */
export function setDiskBudget(budgetBytes: number): void {
  diskBudgetBytes = budgetBytes;
}

/** The bytes writes may still use (Infinity: no fault injected); the flush worker reports its use. */
export function getDiskBudget(): number {
  return diskBudgetBytes;
}

function diskFullError(): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error('ENOSPC: no space left on device, write (injected fault)');
  err.code = 'ENOSPC';
  err.errno = -28;
  err.syscall = 'write';
  return err;
}

/** Writes all of `data` to `fd` at the current position (or at `position`), looping on short writes. */
export function writeAll(fd: number, data: Uint8Array, position?: number): void {
  let done = 0;
  let end = data.length;
  if (diskBudgetBytes !== Infinity) {
    end = Math.min(data.length, diskBudgetBytes);
    diskBudgetBytes -= end;
  }
  while (done < end) {
    const n = writeSync(fd, data, done, end - done, position === undefined ? null : position + done);
    done += n;
  }
  if (end < data.length) throw diskFullError();
}

/**
 * Appends `chunks` in order to `fd` (opened for appending) on the I/O thread pool, so the calling
 * thread never waits for the file system; the same injected byte budget applies as in `writeAll`.
 * A write the file system cuts short without an error (libuv stops at the first failing write of
 * its loop and reports the bytes written before it, as at a file size limit) is continued from
 * where it stopped, so the file system's error surfaces; one that makes no progress fails.
 */
export function writeAllAsync(fd: number, chunks: readonly Uint8Array[]): Promise<void> {
  let total = 0;
  for (const c of chunks) total += c.length;
  let list = chunks;
  let full = false;
  if (diskBudgetBytes !== Infinity && total > diskBudgetBytes) {
    // Like a filling disk: what fits is written, then the write fails.
    const cut: Uint8Array[] = [];
    let room = diskBudgetBytes;
    for (const c of chunks) {
      if (room <= 0) break;
      cut.push(c.length <= room ? c : c.subarray(0, room));
      room -= c.length;
    }
    list = cut;
    full = true;
  }
  if (diskBudgetBytes !== Infinity) diskBudgetBytes = Math.max(0, diskBudgetBytes - total);
  return new Promise((resolve, reject) => {
    const done = (err: NodeJS.ErrnoException | null): void => (err !== null ? reject(err) : full ? reject(diskFullError()) : resolve());
    const write = (rest: Uint8Array[], left: number): void => {
      if (left === 0) return done(null);
      writev(fd, rest, (err, written) => {
        if (err !== null) return done(err);
        if (written === 0) return done(shortWriteError());
        write(after(rest, written), left - written);
      });
    };
    let bytes = 0;
    for (const c of list) bytes += c.length;
    write(list as Uint8Array[], bytes);
  });
}

/** `chunks` without their first `n` bytes. */
function after(chunks: Uint8Array[], n: number): Uint8Array[] {
  let k = 0;
  while (k < chunks.length && n >= chunks[k].length) n -= chunks[k++].length;
  if (k === chunks.length) return [];
  return [chunks[k].subarray(n), ...chunks.slice(k + 1)];
}

function shortWriteError(): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error('EIO: the file system took none of a write');
  err.code = 'EIO';
  err.syscall = 'write';
  return err;
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
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // the temp file may not exist; nothing else to undo
    }
    throw ioError(err, path);
  }
  try {
    fsyncDir(dir);
  } catch (err) {
    // The new content is in place, but may not survive a power loss: the caller must treat the
    // write as done (a reader sees it now) and keep what the old content still needs.
    const e = ioError(err, path);
    (e as { renamed?: boolean }).renamed = true;
    throw e;
  }
}

/** Whether `err` came from writeFileAtomic after the new content was renamed into place. */
export function renamedBeforeFailure(err: unknown): boolean {
  return (err as { renamed?: boolean } | null)?.renamed === true;
}
