/**
 * Record-boundary scanners for the text formats, run on the reading thread over the whole
 * (decompressed) stream, once per byte at most: lines (NDJSON, combined logs), CSV records
 * (a newline inside quotes does not end a record) and JSON items (top-level array elements or
 * top-level values, tracking strings, escapes and depth). They keep their state between
 * buffers, so a record may span any number of reads.
 *
 * Each scanner also picks chunk cuts: the first record end at least `chunkBytes` after the
 * previous cut, or, when told to ramp up, fewer bytes for the first chunks (see `Splitter`).
 * Positions are absolute stream offsets.
 */

/** While ramping up, each chunk is this many times the one before, up to `chunkBytes`. */
const RAMP_FACTOR = 4;

export abstract class Splitter {
  /** Chosen cut positions (record ends), oldest first; the chunker drains it. */
  readonly cuts: number[] = [];
  /** JSON and MessagePack: item ranges as absolute [start, end) pairs; null for line formats. */
  readonly items: number[] | null = null;
  /** Ends of the first and last records completed by the latest scan (-1: none). */
  firstEnd = -1;
  lastEnd = -1;
  /** Records completed so far. */
  records = 0;
  /**
   * Set by `finish` when the input ended inside a top-level array after a whole item (a truncated
   * file, most likely): why, for a rejected line of its own. An item cut short says so itself,
   * by failing to parse.
   */
  cutShort: string | null = null;
  protected nextCut: number;
  /** Bytes of the chunk being filled: `chunkBytes`, or fewer while ramping up. */
  private step: number;

  /**
   * @param firstChunkBytes bytes of the first chunk when fewer than `chunkBytes`: the next ones
   *   grow RAMP_FACTOR-fold up to it. A new process's parse and storage code then meets every
   *   path on small chunks before V8 optimizes it, rather than being optimized during the
   *   first big chunk and optimized again after each path it had not seen.
   */
  constructor(
    protected readonly chunkBytes: number,
    firstChunkBytes = chunkBytes,
  ) {
    this.step = Math.max(1, Math.min(chunkBytes, firstChunkBytes));
    this.nextCut = this.step;
  }

  /** Bytes from a cut just made to the next one: the step, grown first while ramping up. */
  protected stepAfterCut(): number {
    this.step = Math.min(this.chunkBytes, this.step * RAMP_FACTOR);
    return this.step;
  }

  /** Scans the next bytes of the stream; buf[0] is at absolute offset `abs`. */
  abstract scan(buf: Uint8Array, abs: number): void;
  /** Ends the input at `end`, closing a record still open (firstEnd/lastEnd report it). */
  abstract finish(end: number): void;
  /** Start of the record still open, or -1 when between records. */
  abstract openStart(): number;

  /** Continues the cut policy after an outside cut at `at`, dropping cuts up to it. */
  restartAt(at: number): void {
    let k = 0;
    while (k < this.cuts.length && this.cuts[k] <= at) k++;
    this.cuts.splice(0, k);
    if (this.cuts.length === 0) this.nextCut = at + this.step;
  }

  protected recordEnd(end: number): void {
    if (this.firstEnd < 0) this.firstEnd = end;
    this.lastEnd = end;
    this.records++;
    if (end >= this.nextCut) {
      this.cuts.push(end);
      this.nextCut = end + this.stepAfterCut();
    }
  }
}

/** Newline-terminated records (NDJSON, combined logs). */
export class LineSplitter extends Splitter {
  private lineStart = 0;

  scan(buf: Uint8Array, abs: number): void {
    const first = buf.indexOf(0x0a);
    if (first < 0) {
      this.firstEnd = this.lastEnd = -1;
      return;
    }
    const last = buf.lastIndexOf(0x0a);
    this.firstEnd = abs + first + 1;
    this.lastEnd = abs + last + 1;
    this.lineStart = this.lastEnd;
    for (let from = Math.max(0, this.nextCut - 1 - abs); ; ) {
      const nl = buf.indexOf(0x0a, from);
      if (nl < 0) break;
      this.cuts.push(abs + nl + 1);
      this.nextCut = abs + nl + 1 + this.stepAfterCut();
      from = Math.max(nl + 1, this.nextCut - 1 - abs);
    }
  }

  finish(end: number): void {
    this.firstEnd = this.lastEnd = end > this.lineStart ? end : -1;
  }

  openStart(): number {
    return this.lineStart;
  }
}

// CSV scanner states.
const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
const QUOTE_IN_QUOTED = 3;

/**
 * CSV records, RFC 4180: a field starting with `"` is quoted until a `"` not followed by
 * another; a `"` elsewhere is an ordinary character. `parse-csv.ts` follows the same rules.
 */
export class CsvSplitter extends Splitter {
  private state = FIELD_START;
  private recordStart = 0;

  scan(buf: Uint8Array, abs: number): void {
    this.firstEnd = this.lastEnd = -1;
    let state = this.state;
    const n = buf.length;
    for (let i = 0; i < n; i++) {
      const c = buf[i];
      if (state === QUOTED) {
        if (c === 0x22) state = QUOTE_IN_QUOTED;
      } else if (c === 0x0a) {
        state = FIELD_START;
        this.recordStart = abs + i + 1;
        this.recordEnd(abs + i + 1);
      } else if (c === 0x2c) {
        state = FIELD_START;
      } else if (c === 0x22) {
        state = state === UNQUOTED ? UNQUOTED : QUOTED; // field start or "" inside quotes
      } else if (state !== UNQUOTED) {
        state = UNQUOTED; // FIELD_START or after a closing quote
      }
    }
    this.state = state;
  }

  finish(end: number): void {
    this.firstEnd = this.lastEnd = end > this.recordStart ? end : -1;
    this.state = FIELD_START;
  }

  openStart(): number {
    return this.recordStart;
  }
}

/**
 * JSON items: the elements of top-level arrays, and top-level values outside arrays (so a
 * single object, or objects one after another, are items too). Depth is counted over both
 * bracket kinds; an unterminated item runs to the end of input and fails to parse there.
 */
export class JsonSplitter extends Splitter {
  override readonly items: number[] = [];
  private inArray = false;
  private depth = 0;
  private inString = false;
  private escape = false;
  private scalar = false;
  private itemStart = -1;

  scan(buf: Uint8Array, abs: number): void {
    this.firstEnd = this.lastEnd = -1;
    const n = buf.length;
    for (let i = 0; i < n; i++) {
      const c = buf[i];
      if (this.inString) {
        if (this.escape) this.escape = false;
        else if (c === 0x5c) this.escape = true;
        else if (c === 0x22) {
          this.inString = false;
          if (this.depth === 0) this.endItem(abs + i + 1);
        }
        continue;
      }
      if (this.depth > 0) {
        if (c === 0x22) this.inString = true;
        else if (c === 0x7b || c === 0x5b) this.depth++;
        else if ((c === 0x7d || c === 0x5d) && --this.depth === 0) this.endItem(abs + i + 1);
        continue;
      }
      if (this.scalar) {
        if (!isDelimiter(c)) continue;
        this.scalar = false;
        this.endItem(abs + i);
      }
      // Between items.
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x2c) continue;
      if (c === 0x5b && !this.inArray) {
        this.inArray = true;
        continue;
      }
      if (c === 0x5d && this.inArray) {
        this.inArray = false;
        continue;
      }
      this.itemStart = abs + i;
      if (c === 0x7b || c === 0x5b) this.depth = 1;
      else if (c === 0x22) this.inString = true;
      else if (c === 0x7d || c === 0x5d) this.endItem(abs + i + 1); // a stray closer: an item that fails to parse
      else this.scalar = true;
    }
  }

  finish(end: number): void {
    this.firstEnd = this.lastEnd = -1;
    if (this.inArray && this.itemStart < 0) this.cutShort = 'the input ends inside a JSON array: its closing "]" is missing (truncated?)';
    if (this.itemStart >= 0) this.endItem(end);
    this.depth = 0;
    this.inString = this.escape = this.scalar = false;
  }

  openStart(): number {
    return this.itemStart;
  }

  private endItem(end: number): void {
    this.items.push(this.itemStart, end);
    this.itemStart = -1;
    this.recordEnd(end);
  }
}

function isDelimiter(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x2c || c === 0x5d || c === 0x7d || c === 0x5b || c === 0x7b || c === 0x22;
}
