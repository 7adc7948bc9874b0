/**
 * README.md is part of the contract: it starts with the three commands a newcomer runs, and it
 * documents every error code of the catalog with its HTTP status.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS } from '../../engine/errors.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe('README.md', () => {
  it('shows npm install, npm start and npm test before anything else', () => {
    const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
    const commands = firstBlock.split('\n').map((l) => l.replace(/#.*/, '').trim()).filter(Boolean);
    expect(commands).toEqual(['npm install', 'npm start', 'npm test']);
  });

  it('documents every error code with its status', () => {
    const documented = new Map<string, number>();
    for (const m of readme.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)) documented.set(m[1], Number(m[2]));
    for (const [code, spec] of Object.entries(ERRORS)) {
      expect(documented.get(code), `README error table row for ${code}`).toBe(spec.status);
    }
    for (const code of documented.keys()) expect(Object.keys(ERRORS), `README documents ${code}`).toContain(code);
  });
});
