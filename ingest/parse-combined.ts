/**
 * Apache/Nginx combined access-log lines:
 * `host ident user [10/Oct/2000:13:55:36 -0700] "GET /a HTTP/1.1" status bytes "referer" "agent"`,
 * optionally followed by a numeric request time (the last field). Columns: host ident user time
 * method path protocol status bytes referer user_agent, and request_time when present. `-` is
 * null for ident, user, status, bytes, referer and user_agent. The common log format (no
 * referer and agent) is accepted too. A line that does not have this shape is rejected with
 * what was wrong; quoted fields unescape `\"` and `\\`.
 */
import type { BatchBuilder } from './batch-builder.js';
import { parseTime } from './parse-time.js';

const MONTHS: Record<string, string> = {
  jan: '01', feb: '02', mar: '03', apr: '04', may: '05', jun: '06',
  jul: '07', aug: '08', sep: '09', oct: '10', nov: '11', dec: '12',
};
const CLF_TIME = /^(\d{2})\/([A-Za-z]{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2})(\.\d+)? ([+-])(\d{2}):?(\d{2})$/;
const NUMBER = /^\d+(?:\.\d+)?$/;
const STATUS = /^(?:\d{3}|-)$/;
const BYTES = /^(?:\d+|-)$/;

/** The bracketed log time as ISO-8601 with offset; the text itself when it is not one. */
export function clfTimeToIso(text: string): string {
  const m = CLF_TIME.exec(text);
  const month = m === null ? undefined : MONTHS[m[2].toLowerCase()];
  if (m === null || month === undefined) return text;
  return `${m[3]}-${month}-${m[1]}T${m[4]}:${m[5]}:${m[6]}${m[7] ?? ''}${m[8]}${m[9]}:${m[10]}`;
}

/** A position in one line, with the small reads the format needs. */
class Cursor {
  i = 0;
  constructor(readonly text: string) {}

  skipSpaces(): void {
    const t = this.text;
    while (t.charCodeAt(this.i) === 0x20 || t.charCodeAt(this.i) === 0x09) this.i++;
  }

  /** The next space-delimited token ('' at the end). */
  token(): string {
    this.skipSpaces();
    const t = this.text;
    const start = this.i;
    while (this.i < t.length && t.charCodeAt(this.i) !== 0x20 && t.charCodeAt(this.i) !== 0x09) this.i++;
    return t.slice(start, this.i);
  }

  /** A quoted field at the cursor (which is on its `"`), unescaped; null if unterminated. */
  quoted(): string | null {
    const t = this.text;
    let out = '';
    let from = this.i + 1;
    for (let k = from; k < t.length; k++) {
      const c = t.charCodeAt(k);
      if (c === 0x5c && k + 1 < t.length) {
        const next = t[k + 1];
        if (next === '"' || next === '\\') {
          out += t.slice(from, k) + next;
          from = k + 2;
        }
        k++;
      } else if (c === 0x22) {
        this.i = k + 1;
        return out + t.slice(from, k);
      }
    }
    return null;
  }
}

const dash = (s: string): string | null => (s === '-' ? null : s);
const broken = (why: string): string => `broken combined log line: ${why}`;

/** Parses one line into the builder's row; returns null when written, else the reason. */
export function parseCombinedLine(text: string, line: number, b: BatchBuilder): string | null {
  const cur = new Cursor(text);
  const host = cur.token();
  const ident = cur.token();
  const user = cur.token();
  cur.skipSpaces();
  if (user === '' || text[cur.i] !== '[') return broken('expected host, ident, user and then "[time]"');
  const close = text.indexOf(']', cur.i);
  if (close < 0) return broken('unterminated "[time]"');
  const written = text.slice(cur.i + 1, close);
  const iso = clfTimeToIso(written);
  // A time that does not parse is reported as the log wrote it, not as its ISO rewriting.
  const time = iso === written || parseTime(iso) !== null ? iso : written;
  cur.i = close + 1;
  cur.skipSpaces();
  if (text[cur.i] !== '"') return broken('expected a quoted request after the time');
  const request = cur.quoted();
  if (request === null) return broken('unterminated quoted request');
  const status = cur.token();
  const bytes = cur.token();
  if (!STATUS.test(status)) return broken(`status ${JSON.stringify(status)} is not a number`);
  if (!BYTES.test(bytes)) return broken(`bytes ${JSON.stringify(bytes)} is not a number`);
  cur.skipSpaces();
  let referer: string | null = null;
  let agent: string | null = null;
  if (text[cur.i] === '"') {
    const r = cur.quoted();
    if (r === null) return broken('unterminated quoted referer');
    cur.skipSpaces();
    if (text[cur.i] !== '"') return broken('expected a quoted user agent after the referer');
    const a = cur.quoted();
    if (a === null) return broken('unterminated quoted user agent');
    referer = dash(r);
    agent = dash(a);
  }
  const trailing = lastToken(text, cur.i);
  const [method, path, protocol] = splitRequest(request);
  b.beginRow();
  b.field('host', host);
  b.field('ident', dash(ident));
  b.field('user', dash(user));
  b.field('time', time);
  b.field('method', method);
  b.field('path', path);
  b.field('protocol', protocol);
  b.field('status', status === '-' ? null : Number(status));
  b.field('bytes', bytes === '-' ? null : Number(bytes));
  b.field('referer', referer);
  b.field('user_agent', agent);
  if (NUMBER.test(trailing)) b.field('request_time', Number(trailing));
  return b.endRow(line);
}

/** The last space-delimited token of text[from...] ('' if none). */
function lastToken(text: string, from: number): string {
  let end = text.length;
  while (end > from && (text.charCodeAt(end - 1) === 0x20 || text.charCodeAt(end - 1) === 0x09)) end--;
  let start = end;
  while (start > from && text.charCodeAt(start - 1) !== 0x20 && text.charCodeAt(start - 1) !== 0x09) start--;
  return text.slice(start, end);
}

/** "GET /a HTTP/1.1" → method, path, protocol; "-" → nulls; anything else → the text as path. */
function splitRequest(request: string): [string | null, string | null, string | null] {
  if (request === '' || request === '-') return [null, null, null];
  const parts = request.split(' ');
  if (parts.length === 3) return [parts[0], parts[1], parts[2]];
  if (parts.length === 2) return [parts[0], parts[1], null];
  return [null, request, null];
}
