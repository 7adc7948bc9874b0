/**
 * Columns the schema gained from ingest calls not yet committed. A split fixes a new column's
 * type at once (later splits depend on it), but a call whose group commit fails (a full disk)
 * must leave no trace: its columns leave the schema again unless a later call in flight uses
 * them too, and a manifest records only columns some committed call has stored.
 *
 * Each pending column keeps the calls that use it: the one that added it and every later one
 * whose batches hold it. It becomes durable when any of them commits, and is removed when all
 * of them have failed. An unlogged call (a bulk load) is durable only once the flush of the
 * generation its rows went to commits: until then its columns stay pending, so a flush of an
 * earlier generation does not record a column whose only rows a crash would lose.
 *
 * Threading: main thread (the table's split and commit loop).
 */
import type { EventBatch } from '../../ingest/batch.js';
import type { StoredType } from './typed-column.js';

export class PendingColumns {
  private readonly users = new Map<string, Set<number>>();
  /** Unlogged calls applied to the tails: the generation whose flush makes each durable. */
  private readonly unlogged = new Map<number, number>();
  private seq = 0;

  /**
   * Before a call's split: its number, and notes its use of pending columns (before the split,
   * so a failure that lands while a paced split runs sees it).
   */
  begin(batches: readonly EventBatch[]): number {
    const seq = ++this.seq;
    if (this.users.size === 0) return seq;
    for (const batch of batches) {
      const names = batch.typed !== undefined ? batch.typed.columns.map(([name]) => name) : batch.columns.keys();
      for (const name of names) this.users.get(name)?.add(seq);
    }
    return seq;
  }

  /** After call `seq`'s split: the columns of `schema` that were not in `before` are its own. */
  added(seq: number, schema: ReadonlyMap<string, StoredType>, before: ReadonlySet<string>): void {
    if (schema.size === before.size) return;
    for (const name of schema.keys()) if (!before.has(name)) this.users.set(name, new Set([seq]));
  }

  /** The calls `seqs` are durable: so are the columns any of them uses. */
  committed(seqs: readonly number[]): void {
    for (const [name, users] of this.users) if (seqs.some((s) => users.has(s))) this.users.delete(name);
  }

  /**
   * A group commit wrote `calls`, whose rows go to the tails of `generation`: a logged call is
   * durable now, an unlogged one once that generation's flush commits.
   */
  written(calls: readonly { seq: number; unlogged: boolean }[], generation: number): void {
    this.committed(calls.filter((c) => !c.unlogged).map((c) => c.seq));
    this.applied(calls.filter((c) => c.unlogged).map((c) => c.seq), generation);
  }

  /** The unlogged calls `seqs` are in the tails of `generation`: durable once its flush commits. */
  applied(seqs: readonly number[], generation: number): void {
    for (const s of seqs) this.unlogged.set(s, generation);
  }

  /** The flush of the generations up to `generation` committed: their unlogged calls are durable. */
  flushed(generation: number): void {
    const done = [...this.unlogged].filter(([, g]) => g <= generation).map(([s]) => s);
    if (done.length === 0) return;
    this.committed(done);
    for (const s of done) this.unlogged.delete(s);
  }

  /** The calls `seqs` failed: columns no other call in flight uses leave `schema`. */
  failed(seqs: readonly number[], schema: Map<string, StoredType>): void {
    for (const [name, users] of this.users) {
      for (const s of seqs) users.delete(s);
      if (users.size > 0) continue;
      this.users.delete(name);
      schema.delete(name);
    }
  }

  /**
   * `schema` without its pending columns: what a manifest may record; with `flushing`, as if the
   * flush of the generations up to it had committed (the manifest that commits it).
   */
  durable(schema: ReadonlyMap<string, StoredType>, flushing = -1): [string, StoredType][] {
    const flushed = (s: number): boolean => (this.unlogged.get(s) ?? Infinity) <= flushing;
    return [...schema].filter(([name]) => {
      const users = this.users.get(name);
      return users === undefined || [...users].some(flushed);
    });
  }
}
