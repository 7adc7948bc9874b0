/**
 * Actor keys and shard routing. An actor value (string or number) is reduced to its key text,
 * hashed with 32-bit FNV-1a over UTF-16 code units, and routed to `hash % shardCount`.
 * The function is part of the on-disk contract: changing it would move actors between shards.
 */

/** The canonical key of an actor value: numbers and strings with the same text are one actor. */
export function actorKey(value: string | number): string {
  return typeof value === 'string' ? value : String(value);
}

/** 32-bit FNV-1a of a string's UTF-16 code units. */
export function hashKey(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * `hashKey` of a string whose UTF-8 bytes are bytes[from, end), for strings of ASCII only (their
 * code units are their bytes): an actor file's values hashed without decoding them.
 */
export function hashAsciiBytes(bytes: Uint8Array, from: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < end; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

export function shardOf(key: string, shardCount: number): number {
  return hashKey(key) % shardCount;
}
