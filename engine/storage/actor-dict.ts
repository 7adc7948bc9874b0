/**
 * Per-shard dense actor ids. Each actor key gets the next id the first time the shard sees it,
 * in WAL order, so replaying the WAL after a crash assigns the same ids again.
 *
 * On disk (`shard-NN.actors`): WAL framing (see wal.ts), each record a msgpack array of actor
 * values appended at flush time, before the manifest that counts them is committed. The
 * manifest's `actorCount` is authoritative: records past it (from a flush that never committed)
 * are cut off on open. Every flush appends one record, so the count always ends on a record.
 */
import { Packr } from 'msgpackr';
import { existsSync } from 'node:fs';
import { CorruptDataError } from '../errors.js';
import { actorKey } from './hash.js';
import { frameRecord, readWal, WalWriter, WAL_HEADER_BYTES } from './wal.js';

const packr = new Packr({ useRecords: false });

export class ActorDict {
  readonly values: (string | number)[] = [];
  private readonly index = new Map<string, number>();
  /** How many ids the committed manifest counts, and the file length that holds them. */
  persistedCount = 0;
  persistedBytes = WAL_HEADER_BYTES;

  get size(): number {
    return this.values.length;
  }

  /** The dense id of an actor value, assigning the next id to a new actor. */
  idOf(value: string | number): number {
    const key = actorKey(value);
    let id = this.index.get(key);
    if (id === undefined) {
      id = this.values.length;
      this.values.push(value);
      this.index.set(key, id);
    }
    return id;
  }

  /** Maps a part's local actor values to dense ids (assigning new ones in order). */
  idsFor(localValues: readonly (string | number)[]): Uint32Array {
    const ids = new Uint32Array(localValues.length);
    for (let i = 0; i < localValues.length; i++) ids[i] = this.idOf(localValues[i]);
    return ids;
  }

  /** Loads the first `count` ids from `path`; throws CorruptDataError if fewer are readable. */
  static load(path: string, count: number): ActorDict {
    const dict = new ActorDict();
    if (count === 0) return dict;
    if (!existsSync(path)) throw new CorruptDataError(path, `missing; the manifest expects ${count} actors`);
    const { records, ends, fileBytes } = readWal(path);
    for (let r = 0; r < records.length && dict.size < count; r++) {
      let chunk: unknown;
      try {
        chunk = packr.unpack(records[r]);
      } catch {
        throw new CorruptDataError(path, 'undecodable actor record');
      }
      for (const v of chunk as (string | number)[]) dict.idOf(v);
      if (dict.size === count) {
        dict.persistedBytes = ends[r];
        if (ends[r] < fileBytes) WalWriter.open(path, ends[r]).close();
      }
    }
    if (dict.size !== count) {
      throw new CorruptDataError(path, `holds ${dict.size} actors where the manifest expects ${count}`);
    }
    dict.persistedCount = count;
    return dict;
  }

  /**
   * Writes ids [persistedCount, upTo) after the committed part of the file (cutting off what an
   * uncommitted flush left) and fsyncs; returns the new file length. The caller commits a
   * manifest counting `upTo` ids, then calls `committed`.
   */
  async persist(path: string, upTo: number): Promise<number> {
    if (upTo <= this.persistedCount) return this.persistedBytes;
    const writer = WalWriter.open(path, this.persistedBytes);
    try {
      writer.append(frameRecord(packr.pack(this.values.slice(this.persistedCount, upTo))));
      await writer.sync();
      return writer.bytes;
    } finally {
      writer.close();
    }
  }

  committed(count: number, bytes: number): void {
    this.persistedCount = count;
    this.persistedBytes = bytes;
  }
}
