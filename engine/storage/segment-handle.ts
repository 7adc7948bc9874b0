/**
 * A segment in use: its manifest entry, its open reader and a reference count held by
 * snapshots. A segment replaced by compaction (or discarded by a failed flush) is retired:
 * once no snapshot holds it, its reader is closed and its file unlinked.
 *
 * Why the file outlives retirement: a snapshot may be scanned by query workers that open the
 * segment by path themselves (engine/query/pool/), possibly after compaction replaced it, so
 * the file must stay on disk for as long as any snapshot can name it. A crash in between
 * leaves an orphan file that no manifest names; opening the table deletes it (table-open.ts).
 */
import { unlinkSync } from 'node:fs';
import type { SegmentEntry } from './manifest.js';
import type { SegmentReader } from './segment-reader.js';

export class SegmentHandle {
  readonly entry: SegmentEntry;
  readonly reader: SegmentReader;
  private refs = 0;
  private retired = false;
  private removed = false;
  private unlink = true;

  constructor(entry: SegmentEntry, reader: SegmentReader) {
    this.entry = entry;
    this.reader = reader;
  }

  acquire(): void {
    this.refs++;
  }

  release(): void {
    this.refs--;
    if (this.refs === 0 && this.retired) this.remove();
  }

  /** Whether a snapshot holds the segment. */
  get inUse(): boolean {
    return this.refs > 0;
  }

  /**
   * Marks the segment dead; closes and unlinks it now, or when the last snapshot lets go. With
   * `unlink` false the file stays (a manifest that may not be durable yet could still name it;
   * the next open deletes it if the one on disk does not).
   */
  retire(unlink = true): void {
    this.retired = true;
    this.unlink = unlink;
    if (this.refs === 0) this.remove();
  }

  /** Whether the file is still on disk for readers that open it by path. */
  get onDisk(): boolean {
    return !this.removed;
  }

  private remove(): void {
    if (this.removed) return;
    this.removed = true;
    this.reader.close();
    if (!this.unlink) return;
    try {
      unlinkSync(this.reader.path);
    } catch {
      // already gone: nothing to clean
    }
  }
}
