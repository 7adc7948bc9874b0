/**
 * The tail memory of all of a store's tables together, against one budget. Each table keeps its
 * own budget (TableOptions.memoryBudgetBytes, see admission.ts); a server ingesting into several
 * tables would otherwise hold up to that much for each. An ingest call waits while either budget
 * would be exceeded (admission.ts), and once the active tails of all tables reach half of the
 * store's budget, the table with the most is flushed, as one table's are at half of its own.
 *
 * Nothing waits without something to wake it: a waiter needs a flush running or queued in some
 * table (each wakes every waiter when it ends), or another call in flight (likewise when it is
 * done); with neither, and nothing a flush could free, the call is admitted.
 *
 * Threading: main thread only, one per store.
 */

/** What the store's budget needs to know of a table. */
export interface MemoryHolder {
  /** Bytes of active and frozen tails, plus those booked by calls admitted and not yet done. */
  heldBytes(): number;
  /** Bytes of the active tails: what a flush would free. */
  activeTailBytes(): number;
  /** Rows of the active tails: without any, a flush frees nothing (their dictionaries stay). */
  activeRows(): number;
  /** Bytes booked by calls admitted and not yet done. */
  bookedBytes(): number;
  /** Whether a flush is queued or running. */
  flushing(): boolean;
  /** Queues a flush; false when none will run (closed, or its last flush failed just now). */
  scheduleFlush(): boolean;
  /** Its last flush failed just now: it queues none for a while (see FLUSH_RETRY_MS). */
  flushBackingOff(): boolean;
  /** Lets the table's waiting calls look again. */
  wake(): void;
}

export class StoreMemory {
  private readonly holders = new Set<MemoryHolder>();

  constructor(readonly budgetBytes: number) {}

  add(holder: MemoryHolder): void {
    this.holders.add(holder);
  }

  /** A table closed or dropped: its memory counts no more, and waiters may now fit. */
  delete(holder: MemoryHolder): void {
    if (this.holders.delete(holder)) this.wakeAll();
  }

  heldBytes(): number {
    let bytes = 0;
    for (const h of this.holders) bytes += h.heldBytes();
    return bytes;
  }

  /**
   * After a call into some table: flushes the table with the most active tail bytes once all of
   * them reach half the budget, unless some table's flush is under way already (whose active
   * tails count until it starts: every call meanwhile would flush one more, smaller table).
   */
  maybeFlush(): void {
    let active = 0;
    for (const h of this.holders) {
      if (h.flushing()) return;
      // A table whose flush just failed holds its tails for a while: counted, they would flush
      // every other table, however little it held, on every call.
      if (!h.flushBackingOff()) active += h.activeTailBytes();
    }
    if (active >= this.budgetBytes / 2) this.flushLargest();
  }

  /**
   * For a call that does not fit the store's budget: true when something will wake it (a flush
   * running or queued, here if need be, or another call in flight), false when nothing could
   * free memory (the call is then admitted).
   */
  canFree(): boolean {
    for (const h of this.holders) if (h.flushing() || h.bookedBytes() > 0) return true;
    return this.flushLargest();
  }

  /**
   * Queues a flush of the table with the most active tail bytes that will take one; false when
   * none will (no active rows, or a flush that failed just now).
   */
  private flushLargest(): boolean {
    const candidates = [...this.holders].filter((h) => !h.flushing() && !h.flushBackingOff() && h.activeRows() > 0);
    candidates.sort((a, b) => b.activeTailBytes() - a.activeTailBytes());
    return candidates.some((h) => h.scheduleFlush());
  }

  /** Lets every table's waiting calls look again (a flush ended, or a call is done). */
  wakeAll(): void {
    for (const h of this.holders) h.wake();
  }
}
