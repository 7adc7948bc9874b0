/** JSON schemas shared by routes (and so by the generated OpenAPI description). */

export const errorSchema = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: { code: { type: 'string' }, message: { type: 'string' }, path: { type: 'string' } },
      required: ['code', 'message'],
    },
  },
  required: ['error'],
} as const;

export const tableParams = {
  type: 'object',
  properties: { table: { type: 'string', maxLength: 100 } },
  required: ['table'],
} as const;

export const resultSchema = {
  type: 'object',
  description: 'Query result: group columns, then measures; stats of the scan',
  properties: {
    columns: { type: 'array', items: { type: 'object', properties: { name: { type: 'string' }, type: { type: 'string' } } } },
    rows: { type: 'array', items: { type: 'array' } },
    stats: { type: 'object', additionalProperties: true },
  },
  additionalProperties: true,
} as const;
