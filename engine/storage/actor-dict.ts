/**
 * Per-shard dense actor ids. Each actor key gets the next id the first time the shard sees it,
 * in WAL order, so replaying the WAL after a crash assigns the same ids again.
 *
 * On disk (`shard-NN.actors`): WAL framing (see wal.ts), each record a msgpack array of actor
 * values appended at flush time, before the manifest that counts them is committed. The
 * manifest's `actorCount` is authoritative: records past it (from a flush that never committed)
 * are cut off on open. Every flush appends one record, so the count always ends on a record.
 * A string that is not well-formed UTF-16 (a lone surrogate, which msgpack's UTF-8 would turn
 * into U+FFFD) is stored as a bin of its UTF-16LE code units, so it comes back exactly.
 *
 * Loaded lazily: opening checks the file (checksums, record counts from the msgpack array
 * headers) but decodes no value; the values are read on first need (a query that shows or
 * filters actors, a sample) and the index on the first `idOf` (ingest). A store of millions of
 * actors then opens in a fraction of a second for the queries that never look at them, and the
 * query workers read the committed prefix from the file themselves (`readActorValues`) instead
 * of being sent it. The index is an open-addressing table of ids by the FNV hash of the actor
 * key (hash.ts), 8 bytes a slot, which builds several times faster than a Map of strings.
 * Built before the values are loaded (an ingest), it leaves the committed actors in the file's
 * bytes, indexed there by their hashes sorted (actor-bytes.ts), and holds only the actors added
 * since, as values: an ingest into a table of millions of actors makes a string of none of them.
 */
import { Packr } from 'msgpackr';
import { existsSync } from 'node:fs';
import { CorruptDataError } from '../errors.js';
import { StoredActors } from './actor-bytes.js';
import { actorKey, hashKey } from './hash.js';
import { CodeSlots, slotOf } from './string-index.js';
import { frameRecord, readWal, WalWriter, WAL_HEADER_BYTES } from './wal.js';
import { fromStoredBytes, toStoredString } from './stored-string.js';

const packr = new Packr({ useRecords: false });

export type ActorValue = string | number;

export class ActorDict {
  /** Values by id once loaded; null while only the file holds them. */
  private loaded: ActorValue[] | null;
  /**
   * When the index was built before the values were loaded: ids [0, stored.count) as the
   * file's bytes, with their own index (`index` then holds only the ids after them), and, until
   * the values are loaded, the values of the ids after them.
   */
  private stored: StoredActors | null = null;
  private added: ActorValue[] = [];
  private index: ActorIndex | null = null;
  /** How many ids the committed manifest counts, and the file length that holds them. */
  persistedCount = 0;
  persistedBytes = WAL_HEADER_BYTES;

  /**
   * @param path the shard's actor file: the first `persistedCount` values are read from it when
   *   first needed (null: a dictionary of memory only, as tests make)
   */
  private constructor(
    private readonly path: string | null,
    loaded: ActorValue[] | null,
  ) {
    this.loaded = loaded;
  }

  /** An empty dictionary with no file. */
  static empty(): ActorDict {
    return new ActorDict(null, []);
  }

  get size(): number {
    if (this.loaded !== null) return this.loaded.length;
    return this.stored !== null ? this.stored.count + this.added.length : this.persistedCount;
  }

  /** Whether the values are in memory (else `file` names where the workers read them). */
  get isLoaded(): boolean {
    return this.loaded !== null;
  }

  /** The file holding the first `persistedCount` values (null: a dictionary of memory only). */
  get file(): string | null {
    return this.path;
  }

  /** Values by id (loads them on first use). Append-only: ids never change. */
  get values(): readonly ActorValue[] {
    if (this.loaded === null) {
      const values = readActorValues(this.path!, this.stored !== null ? this.stored.count : this.persistedCount);
      for (const v of this.added) values.push(v);
      this.loaded = values;
      this.added = [];
    }
    return this.loaded;
  }

  /** Value `id` (< size), without loading the others. */
  private valueAt(id: number): ActorValue {
    if (this.loaded !== null) return this.loaded[id];
    const stored = this.stored!;
    return id < stored.count ? fromStored(stored.decoded(id) as ActorValue | Uint8Array, this.path!) : this.added[id - stored.count];
  }

  /** Whether id `id` is the actor with key `key` (equal keys are one actor: 0 and -0, 7 and "7"). */
  hasKey(id: number, value: ActorValue, key: string): boolean {
    if (this.stored !== null && id < this.stored.count) {
      const ascii = this.stored.asciiEquals(id, key);
      if (ascii !== null) return ascii;
    }
    const v = this.valueAt(id);
    // The key is made only when the values differ, which is rare.
    return v === value || actorKey(v) === key;
  }

  /**
   * The index of ids: of all of them over the loaded values, or, with the committed ones indexed
   * in the file's bytes (`stored`), of those added after them.
   */
  private buildIndex(): ActorIndex {
    if (this.loaded === null && this.path !== null && this.persistedCount > 0) {
      const stored = StoredActors.of(scanActorFile(this.path, this.persistedCount).records, this.persistedCount);
      if (stored !== null) {
        this.stored = stored;
        stored.index((id) => actorKey(this.valueAt(id)));
        return ActorIndex.of(new Int32Array(0));
      }
    }
    const values = this.values;
    const hashes = new Int32Array(values.length);
    for (let id = 0; id < values.length; id++) hashes[id] = hashKey(actorKey(values[id])) | 0;
    return ActorIndex.of(hashes);
  }

  /** The dense id of an actor value, assigning the next id to a new actor. */
  idOf(value: ActorValue): number {
    const index = (this.index ??= this.buildIndex());
    const key = actorKey(value);
    const hash = hashKey(key);
    const found = this.stored !== null ? this.stored.find(hash, (id) => this.hasKey(id, value, key)) : -1;
    if (found >= 0) return found;
    const added = index.find(this, value, key, hash);
    if (added >= 0) return added;
    const id = this.size;
    if (this.loaded !== null) this.loaded.push(value);
    else this.added.push(value);
    index.add(hash, id);
    return id;
  }

  /** Maps a part's local actor values to dense ids (assigning new ones in order). */
  idsFor(localValues: readonly ActorValue[]): Uint32Array {
    const ids = new Uint32Array(localValues.length);
    for (let i = 0; i < localValues.length; i++) ids[i] = this.idOf(localValues[i]);
    return ids;
  }

  /**
   * Opens the first `count` ids of `path`: checks every record and cuts off what an
   * uncommitted flush left past them, without decoding a value. Throws CorruptDataError if the
   * file holds fewer or cannot be read.
   */
  static load(path: string, count: number): ActorDict {
    if (count === 0) return new ActorDict(path, []);
    const dict = new ActorDict(path, null);
    const { ends, fileBytes } = scanActorFile(path, count);
    const end = ends[ends.length - 1];
    if (end < fileBytes) WalWriter.open(path, end).close();
    dict.persistedCount = count;
    dict.persistedBytes = end;
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
      const values: (ActorValue | Uint8Array)[] = [];
      for (let id = this.persistedCount; id < upTo; id++) values.push(toStored(this.valueAt(id)));
      writer.append(frameRecord(packr.pack(values)));
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

/** Record ends of the records holding the first `count` ids (count > 0), and the file length. */
function scanActorFile(path: string, count: number): { records: Uint8Array[]; ends: number[]; fileBytes: number } {
  if (!existsSync(path)) throw new CorruptDataError(path, `missing; the manifest expects ${count} actors`);
  const { records, ends, fileBytes } = readWal(path);
  let held = 0;
  let r = 0;
  for (; r < records.length && held < count; r++) held += arrayLength(records[r], path);
  if (held !== count) throw new CorruptDataError(path, `holds ${held} actors where the manifest expects ${count}`);
  return { records: records.slice(0, r), ends: ends.slice(0, r), fileBytes };
}

/** The element count of a msgpack array, from its header. */
function arrayLength(record: Uint8Array, path: string): number {
  const b = record[0];
  if (b >= 0x90 && b <= 0x9f) return b & 0x0f;
  if (b === 0xdc && record.length >= 3) return (record[1] << 8) | record[2];
  if (b === 0xdd && record.length >= 5) return ((record[1] << 24) | (record[2] << 16) | (record[3] << 8) | record[4]) >>> 0;
  throw new CorruptDataError(path, 'undecodable actor record');
}

/**
 * The first `count` actor values of an actor file, by id. Any thread may call it: the committed
 * prefix of the file never changes while its table exists (flushes only append).
 */
export function readActorValues(path: string, count: number): ActorValue[] {
  const values: ActorValue[] = [];
  if (count === 0) return values;
  for (const record of scanActorFile(path, count).records) {
    let chunk: unknown;
    try {
      chunk = packr.unpack(record);
    } catch {
      throw new CorruptDataError(path, 'undecodable actor record');
    }
    if (!Array.isArray(chunk)) throw new CorruptDataError(path, 'undecodable actor record');
    for (const v of chunk as (ActorValue | Uint8Array)[]) {
      if (values.length === count) break;
      values.push(fromStored(v, path));
    }
  }
  return values;
}

/** How an actor value is stored: a string with a lone surrogate as its UTF-16LE code units. */
function toStored(v: ActorValue): ActorValue | Uint8Array {
  return typeof v === 'string' ? toStoredString(v) : v;
}

function fromStored(v: ActorValue | Uint8Array, path: string): ActorValue {
  if (typeof v === 'string' || typeof v === 'number') return v;
  const s = v instanceof Uint8Array ? fromStoredBytes(v) : null;
  if (s === null) throw new CorruptDataError(path, 'undecodable actor record');
  return s;
}

/** Actor ids by `hashKey` of their key (string-index.ts's slots, with the actors' equality: `ActorDict.hasKey`). */
class ActorIndex extends CodeSlots {
  /** An index of ids 0 … hashes.length − 1, id `id`'s key having hash `hashes[id]`. */
  static of(hashes: Int32Array): ActorIndex {
    const index = new ActorIndex(Math.max(512, hashes.length));
    for (let id = 0; id < hashes.length; id++) index.add(hashes[id], id);
    return index;
  }

  /** The id of the actor `value` (whose key and its hash are given), or -1. */
  find(dict: ActorDict, value: ActorValue, key: string, hash: number): number {
    const slots = this.slots;
    const mask = (slots.length >> 1) - 1;
    for (let i = slotOf(hash) & mask; ; i = (i + 1) & mask) {
      const id1 = slots[2 * i + 1];
      if (id1 === 0) return -1;
      if (slots[2 * i] === (hash | 0) && dict.hasKey(id1 - 1, value, key)) return id1 - 1;
    }
  }
}
