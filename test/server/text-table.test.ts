/** The CLI's text table: numbers right-aligned and readable at every magnitude. */
import { describe, expect, it } from 'vitest';
import { textTable } from '../../server/cli/text-table.js';

describe('textTable numbers', () => {
  it('groups ordinary numbers, keeps small ones visible, and writes extreme ones with an exponent', () => {
    const cell = (v: number): string => textTable(['v'], [[v]]).split('\n')[2].trim();
    expect([1234567.891, 0.000123, 0, -42, 0.5].map(cell)).toEqual(['1,234,567.891', '0.000123', '0', '-42', '0.5']);
    expect([1.7e308, -2.5e20, 123456789012345678, 1.5e15 + 0.5, 3e-7, -5e-324].map(cell)).toEqual(['1.7e+308', '-2.5e+20', '1.2345678901234568e+17', '1.5000000000000005e+15', '3e-7', '-5e-324']);
    // Exact integers keep every digit, so two ids (or sums) one apart never print alike.
    expect([1234567890123456, 1234567890123457, 2 ** 53 - 1].map(cell)).toEqual(['1,234,567,890,123,456', '1,234,567,890,123,457', '9,007,199,254,740,991']);
    expect([Infinity, -Infinity].map(cell)).toEqual(['∞', '-∞']);
  });
});
