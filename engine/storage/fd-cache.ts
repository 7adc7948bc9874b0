/**
 * Open file descriptors of segment files, bounded per thread.
 *
 * A table holds one reader per segment, and a big store has tens of thousands of segments before
 * full compaction (16 shards × one partition per day × size tiers); the main thread and every
 * query worker each keep their own readers. Holding an open descriptor per reader ran out of
 * them (EMFILE) at 310M events. Readers instead ask this cache for their descriptor on every
 * read: it opens the file on demand and closes the least recently used one beyond the limit.
 *
 * Safety: reads are synchronous, so a descriptor handed out is used before anything else can
 * evict it. A file is only reopened while a snapshot names its segment, and the store unlinks a
 * segment file only once no snapshot does (segment-handle.ts), so a reopen finds the same file.
 *
 * The limit (SHOAL_SEGMENT_FDS, default 512 per thread) is per thread because module state is.
 */
import { closeSync } from 'node:fs';

export const DEFAULT_SEGMENT_FDS = 512;

export class FdCache {
  /** Owner → descriptor, least recently used first (a Map keeps insertion order). */
  private readonly fds = new Map<object, number>();
  private capacity = 1;

  constructor(capacity: number) {
    this.resize(capacity);
  }

  get size(): number {
    return this.fds.size;
  }

  /** Sets the limit, closing the least recently used descriptors beyond it. */
  resize(capacity: number): void {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`file descriptor cache needs room for at least one file, got ${capacity}`);
    this.capacity = capacity;
    this.evict();
  }

  /** The owner's descriptor, opened with `open` when the cache holds none for it. */
  get(owner: object, open: () => number): number {
    const held = this.fds.get(owner);
    if (held !== undefined) {
      this.fds.delete(owner);
      this.fds.set(owner, held);
      return held;
    }
    const fd = open();
    this.adopt(owner, fd);
    return fd;
  }

  /** Keeps an already open descriptor for `owner` (closing any it held). */
  adopt(owner: object, fd: number): void {
    this.close(owner);
    this.fds.set(owner, fd);
    this.evict();
  }

  private evict(): void {
    while (this.fds.size > this.capacity) {
      const [oldest, oldFd] = this.fds.entries().next().value as [object, number];
      this.fds.delete(oldest);
      closeQuietly(oldFd);
    }
  }

  /** Closes the owner's descriptor if the cache holds one. */
  close(owner: object): void {
    const fd = this.fds.get(owner);
    if (fd === undefined) return;
    this.fds.delete(owner);
    closeQuietly(fd);
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed or never valid: nothing left to release
  }
}

function capacityFromEnv(): number {
  const raw = process.env.SHOAL_SEGMENT_FDS;
  if (raw === undefined || raw === '') return DEFAULT_SEGMENT_FDS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`SHOAL_SEGMENT_FDS must be a positive integer, got "${raw}"`);
  return n;
}

/** This thread's segment descriptors. */
export const segmentFds = new FdCache(capacityFromEnv());
