/**
 * Sticky encoding choice, for writers with a latency budget (flushes). `encodeBest` analyzes a
 * block with every applicable encoding, which costs more than encoding it; but a column's best
 * encoding rarely changes from one block to the next (times stay delta-split, sparse columns
 * sparse, string codes bit-packed or run-length). `EncodingChoices` runs the full search for a
 * column's first block and then every `searchEvery`-th, and in between encodes directly with the
 * last winner (for sparse, with the same inner encoding). It searches again at once when the
 * winner cannot hold a block (an encoding's `encode` throws then) or when its output is more
 * than a quarter larger per row than the search measured. LZ4 is tried on a block only when it
 * paid on the column's last searched block (or on a searched block itself).
 *
 * Compaction rewrites every row with the full search (no choices), so what a flush gives up in
 * size is taken back there. Choices are keyed by physical kind and column name; a key never
 * affects correctness, only which encoding is tried first.
 *
 * Threading: an instance belongs to one thread (each flush worker keeps one).
 */
import type { PhysicalKind } from './encoding.js';
import { encodeBest, encodingById, ENCODING_IDS } from './index.js';
import { encodeSparseValid, encodeSparseWith } from './sparse.js';

type Values = Float64Array | Uint32Array | Uint8Array;

interface Choice {
  encodingId: number;
  /** For sparse: the inner encoding of the valid values. */
  innerId: number;
  /** Encoded bytes per row of the last searched block. */
  bytesPerRow: number;
  /** Whether LZ4 paid on the last searched block. */
  lz4: boolean;
  blocksSinceSearch: number;
}

/** Encoded blocks more than this fraction larger per row than at the last search trigger a search. */
const GROWTH_LIMIT = 1.25;
/** Slack for short blocks, whose fixed headers weigh more per row. */
const SLACK_BYTES = 64;
/** Choices kept at most (a server writes many tables); beyond, they start over. */
const MAX_COLUMNS = 4096;

export interface ChosenBlock {
  encodingId: number;
  bytes: Uint8Array;
  /** Whether the caller should try LZ4 on this block. */
  tryLz4: boolean;
  /** True when the block went through the full search; report `lz4Paid` for it. */
  searched: boolean;
}

export class EncodingChoices {
  private readonly byColumn = new Map<string, Choice>();

  /** @param searchEvery a full search every this many blocks of a column (1 = always). */
  constructor(readonly searchEvery = 64) {}

  /**
   * Encodes one block of column `column` (see the module comment). `valid`, when given, lists
   * the block's valid rows (ascending), its null rows holding the writer's filler: a sparse
   * choice then reads those rows alone (`encodeSparseValid`).
   */
  encode(column: string, values: Values, kind: PhysicalKind, validity: Uint8Array | null, valid?: Uint32Array): ChosenBlock {
    const key = `${kind}:${column}`;
    const choice = this.byColumn.get(key);
    if (choice !== undefined && ++choice.blocksSinceSearch < this.searchEvery) {
      const bytes = encodeWithChoice(choice, values, kind, validity, valid);
      if (bytes !== null && bytes.length <= choice.bytesPerRow * values.length * GROWTH_LIMIT + SLACK_BYTES) {
        return { encodingId: choice.encodingId, bytes, tryLz4: choice.lz4, searched: false };
      }
    }
    const best = encodeBest(values, kind, validity);
    if (this.byColumn.size >= MAX_COLUMNS && choice === undefined) this.byColumn.clear();
    this.byColumn.set(key, {
      encodingId: best.encodingId,
      innerId: best.encodingId === ENCODING_IDS.sparse ? best.bytes[0] : -1,
      bytesPerRow: best.bytes.length / Math.max(1, values.length),
      lz4: choice?.lz4 ?? true,
      blocksSinceSearch: 0,
    });
    return { encodingId: best.encodingId, bytes: best.bytes, tryLz4: true, searched: true };
  }

  /** Records whether LZ4 paid on the block `encode` just returned with `searched` set. */
  lz4Paid(column: string, kind: PhysicalKind, paid: boolean): void {
    const choice = this.byColumn.get(`${kind}:${column}`);
    if (choice !== undefined) choice.lz4 = paid;
  }
}

/** The block in the chosen encoding, or null when that encoding cannot hold it. */
function encodeWithChoice(choice: Choice, values: Values, kind: PhysicalKind, validity: Uint8Array | null, valid: Uint32Array | undefined): Uint8Array | null {
  const sparse = choice.encodingId === ENCODING_IDS.sparse;
  // encodeBest stores every block with null rows sparse: a change of shape needs the search.
  if (sparse !== (validity !== null)) return null;
  try {
    if (sparse && valid !== undefined) return encodeSparseValid(encodingById(choice.innerId), values, kind, valid);
    if (sparse) return encodeSparseWith(encodingById(choice.innerId), values, kind, validity);
    return encodingById(choice.encodingId).encode(values, kind, validity);
  } catch {
    return null;
  }
}
