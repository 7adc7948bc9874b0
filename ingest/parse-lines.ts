/**
 * Line-oriented formats (NDJSON and combined access logs): walks a chunk line by line and hands
 * each line to its record parser. A chunk holds whole lines (it was cut after a newline, or it
 * ends the input); a final line without a newline still counts. An empty or whitespace-only
 * line is a rejected line ("empty line"), so line numbers always match the file.
 *
 * The size limit applies to the bytes before the newline; `raw` and parsing leave out a
 * trailing carriage return (CRLF files).
 */
import { BatchBuilder, rawText, tooLong } from './batch-builder.js';
import { isBlank, withoutCr, type JsonRecordParser } from './json-record.js';
import type { ChunkOptions } from './options.js';
import { parseCombinedLine } from './parse-combined.js';

/** Parses an NDJSON chunk whose first line is `firstLine`; returns the number of lines. */
export function parseNdjson(buf: Buffer, firstLine: number, b: BatchBuilder, records: JsonRecordParser): number {
  let line = firstLine;
  let s = 0;
  const n = buf.length;
  while (s < n) {
    s = records.parseLine(buf, s, n, line, b) + 1;
    line++;
  }
  return line - firstLine;
}

/** Parses a chunk of combined-format access-log lines; returns the number of lines. */
export function parseCombined(buf: Buffer, firstLine: number, b: BatchBuilder, options: ChunkOptions): number {
  let line = firstLine;
  let s = 0;
  const n = buf.length;
  while (s < n) {
    const nl = buf.indexOf(0x0a, s);
    const lineEnd = nl < 0 ? n : nl;
    const e = withoutCr(buf, s, lineEnd);
    if (lineEnd - s > options.maxLineBytes) {
      b.reject(line, tooLong('line', lineEnd - s, options.maxLineBytes), rawText(buf, s, e));
    } else if (isBlank(buf, s, e)) {
      b.reject(line, 'empty line', rawText(buf, s, e));
    } else {
      const text = buf.toString('utf8', s, e);
      const reason = parseCombinedLine(text, line, b);
      if (reason !== null) b.reject(line, reason, text);
    }
    line++;
    s = lineEnd + 1;
  }
  return line - firstLine;
}
