/**
 * MessagePack item boundaries, found without decoding: walks headers and skips payloads, keeping
 * its state between reads (a header may be cut by a read boundary; it is collected into a
 * 9-byte carry). Items are the elements of top-level arrays and the top-level values outside
 * arrays, so "an array of maps" and "a stream of maps" both give one item per map.
 *
 * Standard MessagePack only: msgpackr's record extension spreads one value over several
 * top-level values and is not supported (such items fail to decode and are rejected).
 */
import { Splitter } from './split-text.js';

/** Header length by first byte; 0 for one-byte headers handled inline. */
function headerBytes(c: number): number {
  if (c <= 0xbf || c >= 0xe0) return 1;
  switch (c) {
    case 0xc4: case 0xcc: case 0xd0: case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8: case 0xd9:
      return 2;
    case 0xc5: case 0xc7: case 0xcd: case 0xd1: case 0xda: case 0xdc: case 0xde:
      return 3;
    case 0xc8:
      return 4;
    case 0xc9:
      return 6;
    case 0xc6: case 0xca: case 0xce: case 0xd2: case 0xdb: case 0xdd: case 0xdf:
      return 5;
    case 0xcb: case 0xcf: case 0xd3:
      return 9;
    default:
      return 1; // nil, booleans, and the unused 0xc1 (which then fails to decode)
  }
}

const FIXEXT_PAYLOAD: Record<number, number> = { 0xd4: 1, 0xd5: 2, 0xd6: 4, 0xd7: 8, 0xd8: 16 };

export class MsgpackSplitter extends Splitter {
  override readonly items: number[] = [];
  /** Elements still expected by each open container of the current item. */
  private readonly stack: number[] = [];
  private readonly header = new Uint8Array(9);
  private headerLen = 0;
  private headerNeed = 0;
  private skip = 0;
  /** Items left in the enclosing top-level array (0: not in one). */
  private arrayLeft = 0;
  private itemStart = -1;

  scan(buf: Uint8Array, abs: number): void {
    this.firstEnd = this.lastEnd = -1;
    const n = buf.length;
    let i = 0;
    while (i < n) {
      if (this.skip > 0) {
        const take = Math.min(this.skip, n - i);
        this.skip -= take;
        i += take;
        if (this.skip === 0) this.valueDone(abs + i);
        continue;
      }
      if (this.headerLen === 0) {
        const c = buf[i];
        this.headerNeed = headerBytes(c);
        if (this.itemStart < 0 && !(this.arrayLeft === 0 && isArrayHeader(c))) this.itemStart = abs + i;
      }
      while (this.headerLen < this.headerNeed && i < n) this.header[this.headerLen++] = buf[i++];
      if (this.headerLen < this.headerNeed) break;
      this.headerLen = 0;
      this.onHeader(abs + i);
    }
  }

  finish(end: number): void {
    this.firstEnd = this.lastEnd = -1;
    if (this.arrayLeft > 0 && this.itemStart < 0) {
      this.cutShort = `the input ends inside a MessagePack array: ${this.arrayLeft} more item${this.arrayLeft === 1 ? ' was' : 's were'} announced (truncated?)`;
    }
    if (this.itemStart >= 0) this.itemDone(end);
    this.stack.length = 0;
    this.skip = this.headerLen = 0;
  }

  openStart(): number {
    return this.itemStart;
  }

  /** Acts on a complete header ending at absolute `end`. */
  private onHeader(end: number): void {
    const h = this.header;
    const c = h[0];
    let count = -1; // container elements
    let payload = 0;
    if (c >= 0x80 && c <= 0x8f) count = (c & 0x0f) * 2;
    else if (c >= 0x90 && c <= 0x9f) count = c & 0x0f;
    else if (c >= 0xa0 && c <= 0xbf) payload = c & 0x1f;
    else if (c === 0xdc) count = lengthField(h, 2);
    else if (c === 0xdd) count = lengthField(h, 4);
    else if (c === 0xde) count = lengthField(h, 2) * 2;
    else if (c === 0xdf) count = lengthField(h, 4) * 2;
    else if (c === 0xc4 || c === 0xd9 || c === 0xc7) payload = lengthField(h, 1);
    else if (c === 0xc5 || c === 0xda || c === 0xc8) payload = lengthField(h, 2);
    else if (c === 0xc6 || c === 0xdb || c === 0xc9) payload = lengthField(h, 4);
    else if (c >= 0xd4 && c <= 0xd8) payload = FIXEXT_PAYLOAD[c]; // after the type byte
    if (this.itemStart < 0) {
      // A top-level array outside any item: its elements are the items.
      this.arrayLeft = count;
      return;
    }
    if (count > 0) this.stack.push(count);
    else if (payload > 0) this.skip = payload;
    else this.valueDone(end);
  }

  /** A value ended at `end`: closes the containers it completes, maybe the item. */
  private valueDone(end: number): void {
    const stack = this.stack;
    for (;;) {
      if (stack.length === 0) {
        this.itemDone(end);
        return;
      }
      if (--stack[stack.length - 1] > 0) return;
      stack.pop();
    }
  }

  private itemDone(end: number): void {
    this.items.push(this.itemStart, end);
    this.itemStart = -1;
    if (this.arrayLeft > 0) this.arrayLeft--;
    this.recordEnd(end);
  }
}

/** The big-endian length of `bytes` bytes after the header's first byte. */
function lengthField(h: Uint8Array, bytes: number): number {
  if (bytes === 1) return h[1];
  if (bytes === 2) return (h[1] << 8) | h[2];
  return ((h[1] << 24) | (h[2] << 16) | (h[3] << 8) | h[4]) >>> 0;
}

function isArrayHeader(c: number): boolean {
  return (c >= 0x90 && c <= 0x9f) || c === 0xdc || c === 0xdd;
}
