/**
 * A segment in use: its manifest entry, its open reader and a reference count held by
 * snapshots. A segment replaced by compaction is retired: its file is unlinked at once (open
 * descriptors keep working) and its descriptor closed when the last snapshot releases it.
 */
import { unlinkSync } from 'node:fs';
import type { SegmentEntry } from './manifest.js';
import type { SegmentReader } from './segment-reader.js';

export class SegmentHandle {
  readonly entry: SegmentEntry;
  readonly reader: SegmentReader;
  private refs = 0;
  private retired = false;

  constructor(entry: SegmentEntry, reader: SegmentReader) {
    this.entry = entry;
    this.reader = reader;
  }

  acquire(): void {
    this.refs++;
  }

  release(): void {
    this.refs--;
    if (this.refs === 0 && this.retired) this.reader.close();
  }

  /** Removes the file; closes the reader now or when the last snapshot lets go. */
  retire(): void {
    this.retired = true;
    try {
      unlinkSync(this.reader.path);
    } catch {
      // already gone: nothing to clean
    }
    if (this.refs === 0) this.reader.close();
  }
}
