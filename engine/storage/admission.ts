/**
 * A table's back-pressure: ingest calls wait while the tails plus the batches admitted but not
 * yet applied would exceed the table's memory budget, or, counted over all the store's tables,
 * the store's (store-memory.ts), and a flush is queued to free memory.
 *
 * A call books an estimate of the tail bytes its rows will take (the tails' current bytes per
 * row) and gives it back when it is done. A call is always admitted when no rows are held or
 * booked, so one batch larger than the budget still passes; and a call is admitted rather than
 * left waiting when nothing could wake it (a failed flush left frozen tails, or failed so
 * recently that no flush is queued yet; no call in flight).
 *
 * Threading: main thread only, one per table.
 */
import type { MemoryHolder, StoreMemory } from './store-memory.js';

/** What admission needs to know of its table. */
export interface AdmissionView {
  budgetBytes(): number;
  /** Bytes of the rows held by active and frozen tails. */
  tailBytes(): number;
  /** Bytes and rows held by the active tails (what a flush frees). */
  activeTailBytes(): number;
  activeRows(): number;
  /** The store's budget the table counts against, if any. */
  store(): StoreMemory | null;
  /** Rows held by active and frozen tails. */
  tailRows(): number;
  /** Frozen generations not yet flushed. */
  frozenCount(): number;
  closed(): boolean;
  /** Whether a flush is queued or running (it wakes waiters when it ends). */
  flushing(): boolean;
  /** Queues a flush; false when none will run (see Table.scheduleFlush). */
  scheduleFlush(): boolean;
  /** Its last flush failed just now (see FLUSH_RETRY_MS). */
  flushBackingOff(): boolean;
}

/** Tail bytes per row assumed before the tails hold any row. */
const DEFAULT_ROW_BYTES = 256;

export class Admission {
  /** Estimated bytes of calls admitted and not yet done. */
  private booked = 0;
  private waiters: (() => void)[] = [];
  /** The table as the store's budget sees it. */
  readonly holder: MemoryHolder;

  constructor(private readonly table: AdmissionView) {
    this.holder = {
      heldBytes: () => table.tailBytes() + this.booked,
      activeTailBytes: () => table.activeTailBytes(),
      activeRows: () => table.activeRows(),
      bookedBytes: () => this.booked,
      flushing: () => table.flushing(),
      scheduleFlush: () => table.scheduleFlush(),
      flushBackingOff: () => table.flushBackingOff(),
      wake: () => this.wake(),
    };
  }

  get bookedBytes(): number {
    return this.booked;
  }

  /** Waits until `rows` more rows fit the budget; returns the bytes booked for them (give them back with `release`). */
  async admit(rows: number): Promise<number> {
    const t = this.table;
    const tailRows = t.tailRows();
    // Whole bytes: `booked` is a running sum of estimates added and later subtracted, and
    // fractions would leave it a hair off zero (-2.7e-12), which reads as memory held forever.
    const estimate = Math.ceil(rows * (tailRows > 0 ? t.tailBytes() / tailRows : DEFAULT_ROW_BYTES));
    for (;;) {
      const held = t.tailBytes() + this.booked;
      const store = t.store();
      // "Nothing else holds memory" is judged by rows and bookings, not by bytes, so a budget
      // smaller than a table's fixed overhead can never make a call wait with no one to wake it.
      const idle = this.booked === 0 && t.frozenCount() === 0 && t.tailRows() === 0;
      const fits = held + estimate <= t.budgetBytes();
      if (t.closed() || (fits && (store === null || store.heldBytes() + estimate <= store.budgetBytes)) || idle) break;
      if (!fits) {
        // Something will wake us: a call in flight finishing, or a flush (queued here if need be).
        if (!t.flushing() && this.booked === 0) {
          // A flush that failed leaves its frozen tails, or the next one waits a while: admit
          // rather than wait forever (the error is reported).
          if (t.frozenCount() > 0 || !t.scheduleFlush()) break;
        }
      } else if (!store!.canFree()) {
        break; // over the store's budget, with nothing any table could free
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    this.booked += estimate;
    return estimate;
  }

  /** Gives back a call's booking and lets waiting calls look again (every table's, in a store). */
  release(bytes: number): void {
    this.booked -= bytes;
    this.wakeAll();
  }

  /** Lets waiting calls look again: this table's, or every table's of its store (a flush ended). */
  wakeAll(): void {
    const store = this.table.store();
    if (store !== null) store.wakeAll();
    else this.wake();
  }

  /** Lets waiting calls look again (after a flush, or a call's commit). */
  wake(): void {
    const waiters = this.waiters;
    if (waiters.length === 0) return;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
