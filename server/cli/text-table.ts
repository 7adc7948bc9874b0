/** Plain-text tables for terminal output: columns padded to width, numbers right-aligned, control characters escaped. */

const ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Control characters as escapes: a newline would break the table's rows, and an escape sequence
 * stored in an event (ESC [2J) would act on the user's terminal instead of being shown.
 */
function visible(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => ESCAPES[c] ?? `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export function textTable(header: string[], rows: (string | number | boolean | null)[][]): string {
  const cells = rows.map((r) => r.map((c) => (c === null ? '' : typeof c === 'number' ? numberText(c) : visible(String(c)))));
  const head = header.map(visible);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]?.length ?? 0)));
  const numeric = head.map((_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number' || r[i] === null));
  const line = (r: string[]): string =>
    r.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n') + '\n';
}

/**
 * A number for reading: grouped, with three decimals, or three significant digits below 1 so a
 * small value (a rate, seconds) does not read as 0. Exact integers (ids, sums) are grouped in
 * full whatever their size; other values from 1e15 up and below 1e-6, where grouped digits would
 * run to hundreds of characters, are written with an exponent, in as many digits as tell them
 * apart from every other number.
 */
function numberText(v: number): string {
  const a = Math.abs(v);
  if (v !== 0 && Number.isFinite(v) && !Number.isSafeInteger(v) && (a >= 1e15 || a < 1e-6)) return v.toExponential();
  const small = v !== 0 && a < 1;
  return v.toLocaleString('en-US', small ? { maximumSignificantDigits: 3 } : { maximumFractionDigits: 3 });
}
