/** The CLI's text table: numbers right-aligned and readable at every magnitude. */
import { describe, expect, it } from 'vitest';
import { textTable } from '../../server/cli/text-table.js';

describe('textTable numbers', () => {
  it('groups ordinary numbers, keeps small ones visible, and writes extreme ones with an exponent', () => {
    const cell = (v: number): string => textTable(['v'], [[v]]).split('\n')[2].trim();
    expect([1234567.891, 0.000123, 0, -42, 0.5].map(cell)).toEqual(['1,234,567.891', '0.000123', '0', '-42', '0.5']);
    expect([1.7e308, -2.5e20, 123456789012345678, 1e15, 3e-7, -5e-324].map(cell)).toEqual(['1.7e+308', '-2.5e+20', '1.23457e+17', '1e+15', '3e-7', '-4.94066e-324']);
    expect([Infinity, -Infinity].map(cell)).toEqual(['∞', '-∞']);
  });
});
