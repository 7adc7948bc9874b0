/**
 * Strings in MessagePack files (segment footers, actor files). MessagePack strings are UTF-8,
 * which cannot hold a lone UTF-16 surrogate (JSON.parse accepts "\ud800"; msgpackr would read
 * one back as U+FFFD), so such a string is stored as its UTF-16LE bytes, a bin value, instead.
 */

export function isWellFormed(s: string): boolean {
  return (s as unknown as { isWellFormed(): boolean }).isWellFormed();
}

/** `s` as stored: itself, or its UTF-16LE bytes when it holds a lone surrogate. */
export function toStoredString(s: string): string | Uint8Array {
  return isWellFormed(s) ? s : Buffer.from(s, 'utf16le');
}

/** The string `toStoredString` stored as bytes (an even count of them); null for other bytes. */
export function fromStoredBytes(v: Uint8Array): string | null {
  return v.length % 2 === 0 ? Buffer.from(v.buffer, v.byteOffset, v.length).toString('utf16le') : null;
}
