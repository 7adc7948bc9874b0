/**
 * A table's consistent view for a query (Table.snapshot): per shard, its segments (oldest
 * generation first) and the rows of its tails visible now, all pinned until `release()`.
 */
import type { ShardSnapshot, TableSnapshot } from '../query/source.js';
import type { ColumnType } from '../types.js';
import type { ActorDict } from './actor-dict.js';
import type { SegmentHandle } from './segment-handle.js';
import type { Tail } from './tail.js';
import { TailSource } from './tail-source.js';
import type { StoredType } from './typed-column.js';

export interface SnapshotInput {
  table: string;
  actorColumn: string;
  timeColumn: string;
  schema: ReadonlyMap<string, StoredType>;
  segments: Iterable<SegmentHandle>;
  /** Per shard. */
  actors: readonly ActorDict[];
  /** Shard s's tails, frozen generations first, the active one last. */
  tailsOf: (shard: number) => Tail[];
  /** A tail's rows a query may see (fewer while a paced group is applied). */
  visible: (tail: Tail) => number;
}

export function takeSnapshot(input: SnapshotInput): TableSnapshot {
  const bySegShard = new Map<number, SegmentHandle[]>();
  for (const h of input.segments) {
    const list = bySegShard.get(h.entry.shard) ?? [];
    list.push(h);
    bySegShard.set(h.entry.shard, list);
  }
  const acquired: SegmentHandle[] = [];
  const pinned: Tail[] = [];
  const { visible } = input;
  const shards: ShardSnapshot[] = input.actors.map((actors, s) => {
    const handles = (bySegShard.get(s) ?? []).sort((a, b) => a.entry.genMin - b.entry.genMin || a.entry.partition - b.entry.partition);
    for (const h of handles) h.acquire();
    acquired.push(...handles);
    const tails = input.tailsOf(s).filter((t) => visible(t) > 0);
    for (const t of tails) t.pin();
    pinned.push(...tails);
    return {
      shard: s,
      actorCount: actors.size,
      actorValue: (id: number) => actors.values[id],
      actorDict: actors,
      actorFile: actors.file === null ? null : { path: actors.file, count: actors.persistedCount },
      sources: [...handles.map((h) => h.reader), ...tails.map((t) => new TailSource(t, visible(t)))],
    };
  });
  let released = false;
  return {
    table: input.table,
    actorColumn: input.actorColumn,
    timeColumn: input.timeColumn,
    schema: new Map<string, ColumnType>(input.schema),
    shards,
    release: () => {
      if (released) return;
      released = true;
      for (const h of acquired) h.release();
      for (const t of pinned) t.unpin();
    },
  };
}
