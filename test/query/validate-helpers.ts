/** The error validateQuery throws for a query (a ShoalError), or a test failure when it throws none. */
import { expect } from 'vitest';
import { ShoalError } from '../../engine/errors.js';
import { validateQuery } from '../../engine/query/index.js';

export function validationErrorOf(q: Record<string, unknown>, info: Parameters<typeof validateQuery>[1]): { code: string; path: string | undefined; message: string } {
  try {
    validateQuery({ table: 't', ...q }, info);
  } catch (err) {
    expect(err).toBeInstanceOf(ShoalError);
    const e = err as ShoalError;
    return { code: e.code, path: e.path, message: e.message };
  }
  throw new Error(`no error for ${JSON.stringify(q)}`);
}
