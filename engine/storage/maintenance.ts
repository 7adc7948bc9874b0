/**
 * A table's maintenance chain: flushes and compactions run one after another, never two at once.
 * The table may queue a flush of its own (after a call fills its tails, or for a call waiting for
 * memory): one at a time, and none for FLUSH_RETRY_MS after one that failed, else a call waiting
 * for memory would queue the next the moment the last one failed (a full disk fails it at once),
 * a loop of promises the event loop never leaves. Explicit flushes (`flush`) always run.
 *
 * Threading: main thread only, one per table.
 */
import { FLUSH_RETRY_MS } from './table-options.js';

export class Maintenance {
  private chain: Promise<void> = Promise.resolve();
  private queued = false;
  /** Flushes started and not finished (queued or explicit). */
  private running = 0;
  /** When the last flush failed (−∞ once one succeeds). */
  private failedAt = -Infinity;

  /**
   * @param flushOnce writes the table's tails to segments
   * @param flushEnded called once a flush has ended and no longer counts as running (wakes waiters)
   * @param onError reports a queued flush that failed
   */
  constructor(
    private readonly flushOnce: () => Promise<void>,
    private readonly flushEnded: () => void,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Runs `task` after every earlier flush or compaction. */
  run(task: () => Promise<void>): Promise<void> {
    const run = this.chain.then(task);
    this.chain = run.catch(() => {});
    return run;
  }

  /** Settles once everything queued so far has run. */
  idle(): Promise<void> {
    return this.chain;
  }

  /** Flushes after every earlier task. */
  flush(): Promise<void> {
    return this.run(() => this.flushNow());
  }

  /** Whether a flush is queued or running (its end calls `flushEnded`). */
  flushing(): boolean {
    return this.queued || this.running > 0;
  }

  /** The last flush failed less than FLUSH_RETRY_MS ago: `queueFlush` queues none. */
  backingOff(): boolean {
    return performance.now() - this.failedAt < FLUSH_RETRY_MS;
  }

  /** Queues a flush unless one is queued; false when none will run (retrying too soon). */
  queueFlush(): boolean {
    if (this.queued) return true;
    if (this.backingOff()) return false;
    this.queued = true;
    this.run(async () => {
      this.queued = false;
      await this.flushNow();
    }).catch(this.onError);
    return true;
  }

  private async flushNow(): Promise<void> {
    this.running++;
    try {
      await this.flushOnce();
      this.failedAt = -Infinity;
    } catch (err) {
      this.failedAt = performance.now();
      throw err;
    } finally {
      this.running--;
      this.flushEnded();
    }
  }
}
