/**
 * Group keys encoded late: a streaming operator (funnel-stream.ts, sessions-stream.ts,
 * retention-stream.ts) needs the extra columns' value ids only at a few events — an entry
 * event, a cohort event, a session's first event — so it notes (actor, batch position) while
 * it walks a batch and encodes just those positions at the end of the batch, instead of every
 * row's.
 *
 * Threading: one instance per operator run.
 */
import type { RowBatch } from './actor-stream.js';

function grow(x: Int32Array): Int32Array {
  const y = new Int32Array(2 * x.length);
  y.set(x);
  return y;
}

export class PendingKeys {
  /** Noted events of the current batch: actor, position. */
  actor: Int32Array = new Int32Array(256);
  private at: Int32Array = new Int32Array(256);
  count = 0;
  /** After encode: encoded[j][i] = value id of extra j at noted event i. */
  encoded: Int32Array[];

  constructor(readonly width: number) {
    this.encoded = Array.from({ length: width }, () => new Int32Array(256));
  }

  /** Notes actor a's event at batch position j; returns its index. */
  note(a: number, j: number): number {
    return this.noteIf(a, j, 1);
  }

  /**
   * Notes actor a's event at batch position j when `yes` is 1, not when it is 0 (for loops that
   * avoid branching on it); returns the index it has or would have had.
   */
  noteIf(a: number, j: number, yes: number): number {
    if (this.count === this.actor.length) {
      this.actor = grow(this.actor);
      this.at = grow(this.at);
      this.encoded = this.encoded.map(grow);
    }
    const i = this.count;
    this.actor[i] = a;
    this.at[i] = j;
    this.count = i + yes;
    return i;
  }

  /** Encodes the noted events of batch b (call before the sink returns). */
  encode(b: RowBatch): void {
    if (this.count > 0) b.encode(this.at, this.count, this.encoded);
  }

  /** Writes each noted event's keys to into[j][actor], in note order (a later note of an actor wins), and clears. */
  applyTo(into: Int32Array[]): void {
    for (let j = 0; j < this.width; j++) {
      const dst = into[j];
      const src = this.encoded[j];
      for (let i = 0; i < this.count; i++) dst[this.actor[i]] = src[i];
    }
    this.count = 0;
  }
}
