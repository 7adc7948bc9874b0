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

const MONTHS: Record<string, string> = {
  jan: '01', feb: '02', mar: '03', apr: '04', may: '05', jun: '06',
  jul: '07', aug: '08', sep: '09', oct: '10', nov: '11', dec: '12',
};
const CLF_TIME = /^(\d{2})\/([A-Za-z]{3})\/(\d{4}):(\d{2}):(\d{2}):(\d{2})(\.\d+)? ([+-])(\d{2}):?(\d{2})$/;
const NUMBER = /^\d+(?:\.\d+)?$/;

/** The bracketed log time as ISO-8601 with offset; the text itself when it is not one. */
export function clfTimeToIso(text: string): string {
  const m = CLF_TIME.exec(text);
  const month = m === null ? undefined : MONTHS[m[2].toLowerCase()];
  if (m === null || month === undefined) return text;
  return `${m[3]}-${month}-${m[1]}T${m[4]}:${m[5]}:${m[6]}${m[7] ?? ''}${m[8]}${m[9]}:${m[10]}`;
}

/** Reads a quoted field starting at text[i] === '"'; returns [value, index after it] or null. */
function quoted(text: string, i: number): [string, number] | null {
  let out = '';
  let from = i + 1;
  for (let k = from; k < text.length; k++) {
    const c = text.charCodeAt(k);
    if (c === 0x5c && k + 1 < text.length) {
      const next = text[k + 1];
      if (next === '"' || next === '\\') {
        out += text.slice(from, k) + next;
        from = k + 2;
      }
      k++;
    } else if (c === 0x22) {
      return [out + text.slice(from, k), k + 1];
    }
  }
  return null;
}

const dash = (s: string): string | null => (s === '-' ? null : s);

/** Parses one line into the builder's row; returns null when written, else the reason. */
export function parseCombinedLine(text: string, line: number, b: BatchBuilder): string | null {
  let i = 0;
  const skipSpaces = (): void => {
    while (text.charCodeAt(i) === 0x20 || text.charCodeAt(i) === 0x09) i++;
  };
  const token = (): string => {
    skipSpaces();
    const start = i;
    while (i < text.length && text.charCodeAt(i) !== 0x20 && text.charCodeAt(i) !== 0x09) i++;
    return text.slice(start, i);
  };
  const broken = (why: string): string => `broken combined log line: ${why}`;
  const host = token();
  const ident = token();
  const user = token();
  skipSpaces();
  if (user === '' || text[i] !== '[') return broken('expected host, ident, user and then "[time]"');
  const close = text.indexOf(']', i);
  if (close < 0) return broken('unterminated "[time]"');
  const time = clfTimeToIso(text.slice(i + 1, close));
  i = close + 1;
  skipSpaces();
  if (text[i] !== '"') return broken('expected a quoted request after the time');
  const request = quoted(text, i);
  if (request === null) return broken('unterminated quoted request');
  i = request[1];
  const status = token();
  const bytes = token();
  if (!/^(\d{3}|-)$/.test(status)) return broken(`status ${JSON.stringify(status)} is not a number`);
  if (!/^(\d+|-)$/.test(bytes)) return broken(`bytes ${JSON.stringify(bytes)} is not a number`);
  skipSpaces();
  let referer: string | null = null;
  let agent: string | null = null;
  if (text[i] === '"') {
    const r = quoted(text, i);
    if (r === null) return broken('unterminated quoted referer');
    i = r[1];
    skipSpaces();
    if (text[i] !== '"') return broken('expected a quoted user agent after the referer');
    const a = quoted(text, i);
    if (a === null) return broken('unterminated quoted user agent');
    i = a[1];
    referer = dash(r[0]);
    agent = dash(a[0]);
  }
  const trailing = text.slice(i).trim().split(/\s+/).pop() ?? '';
  const [method, path, protocol] = splitRequest(request[0]);
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

/** "GET /a HTTP/1.1" → method, path, protocol; "-" → nulls; anything else → the text as path. */
function splitRequest(request: string): [string | null, string | null, string | null] {
  if (request === '' || request === '-') return [null, null, null];
  const parts = request.split(' ');
  if (parts.length === 3) return [parts[0], parts[1], parts[2]];
  if (parts.length === 2) return [parts[0], parts[1], null];
  return [null, request, null];
}
