/**
 * One JSON record (an NDJSON line or a JSON array item) → one row or one Reject: size limit,
 * then the byte-level fast path, then JSON.parse for whatever the fast path declines. Both paths
 * feed the same BatchBuilder calls, so they give identical batches (a property test checks it).
 *
 * Holds a FastJsonScanner per actor/time pair for the life of the thread: its key layout cache
 * pays off across chunks. Not re-entrant.
 */
import { BatchBuilder, kindOf, rawText, tooLong } from './batch-builder.js';
import { builderSink, walkObject } from './flatten.js';
import { FastJsonScanner } from './json-fast.js';
import type { ChunkOptions } from './options.js';
import { utf8Slice } from './string-intern.js';

export class JsonRecordParser {
  private readonly fast: FastJsonScanner;
  private readonly sinks = new WeakMap<BatchBuilder, ReturnType<typeof builderSink>>();
  /** Set to false to measure or test the JSON.parse path alone. */
  useFastPath = true;
  /** Records the fast path parsed (tests check it is really taken). */
  fastHits = 0;

  constructor(private readonly options: ChunkOptions) {
    this.fast = new FastJsonScanner(options.actorColumn, options.timeColumn);
  }

  get maxLineBytes(): number {
    return this.options.maxLineBytes;
  }

  /**
   * Parses buf[start, end) as one record numbered `line`. `unit` names it in messages ("line",
   * "item"); `sizeBytes` is what the limit applies to (for NDJSON, the line before its newline);
   * `tryFast` false skips the fast path (which `parseLine` tried already).
   */
  parse(buf: Buffer, start: number, end: number, line: number, b: BatchBuilder, unit: string, sizeBytes = end - start, tryFast = this.useFastPath): void {
    if (sizeBytes > this.options.maxLineBytes) {
      b.reject(line, tooLong(unit, sizeBytes, this.options.maxLineBytes), rawText(buf, start, end));
      return;
    }
    b.beginRow();
    if (tryFast && this.fast.scan(buf, start, end, b)) {
      this.fastHits++;
      const reason = b.endRow(line);
      if (reason !== null) b.reject(line, reason, rawText(buf, start, end));
      return;
    }
    const reason = this.parseSlow(utf8Slice(buf, start, end), line, b);
    if (reason !== null) b.reject(line, reason, rawText(buf, start, end));
  }

  /**
   * Parses the NDJSON line starting at `start` (numbered `line`) in a chunk ending at `end`;
   * returns where the line ends (its newline, or `end`). Equivalent to finding the newline,
   * then `parse` of the line without it (and without a carriage return before it); the fast
   * path finds the newline itself as it scans (FastJsonScanner.scan's `toNewline`).
   */
  parseLine(buf: Buffer, start: number, end: number, line: number, b: BatchBuilder): number {
    if (this.useFastPath) {
      b.beginRow();
      const fast = this.fast;
      if (fast.scan(buf, start, end, b, true) && fast.lineEnd - start <= this.options.maxLineBytes) {
        this.fastHits++;
        const reason = b.endRow(line);
        if (reason !== null) b.reject(line, reason, rawText(buf, start, withoutCr(buf, start, fast.lineEnd)));
        return fast.lineEnd;
      }
    }
    const nl = buf.indexOf(0x0a, start);
    const lineEnd = nl < 0 || nl > end ? end : nl;
    const e = withoutCr(buf, start, lineEnd);
    if (isBlank(buf, start, e) && lineEnd - start <= this.options.maxLineBytes) b.reject(line, 'empty line', rawText(buf, start, e));
    else this.parse(buf, start, e, line, b, 'line', lineEnd - start, false);
    return lineEnd;
  }

  /** The JSON.parse path for one record's text: null when the row was written, else the reason. */
  private parseSlow(text: string, line: number, b: BatchBuilder): string | null {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      return `invalid JSON: ${(err as Error).message}`;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      return `expected a JSON object, got ${kindOf(value)}`;
    }
    b.beginRow();
    let sink = this.sinks.get(b);
    if (sink === undefined) {
      sink = builderSink(b);
      this.sinks.set(b, sink);
    }
    try {
      walkObject(value as Record<string, unknown>, null, sink);
    } catch (err) {
      // Hostile nesting overflows the recursive walk; the unended row is dropped by the next beginRow.
      return err instanceof RangeError ? 'nested too deeply to flatten' : `cannot flatten: ${(err as Error).message}`;
    }
    return b.endRow(line);
  }
}

/** True when buf[start, end) holds only spaces, tabs and carriage returns. */
export function isBlank(buf: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = buf[i];
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0b && c !== 0x0c) return false;
  }
  return true;
}

/** The end of a line's text: `lineEnd`, or one byte before it when that is a carriage return (CRLF). */
export function withoutCr(buf: Buffer, start: number, lineEnd: number): number {
  return lineEnd > start && buf[lineEnd - 1] === 0x0d ? lineEnd - 1 : lineEnd;
}
