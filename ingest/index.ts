/**
 * The public API of ingest/: read and parse event inputs (NDJSON, JSON, CSV, MessagePack,
 * combined access logs; gzip detected) into EventBatches for engine/.
 */
export type { EventBatch, Reject } from './batch.js';
export { releaseBatch } from './batch-buffers.js';
export { flatten } from './flatten.js';
export { defaultActorColumn, detectFormat, FORMATS, isFormat, unknownFormat, type Format, type ParseOptions, type ReadOptions, type ReadProgress } from './options.js';
export { parseChunk } from './parse-chunk.js';
export type { CsvSchema, CsvType } from './parse-csv.js';
export { parseTime } from './parse-time.js';
export { parseBuffer, readEvents } from './read-events.js';
export { workerScript } from './worker-url.js';
