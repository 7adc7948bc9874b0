#!/usr/bin/env node
// The `shoal` command: runs the compiled CLI (built by `npm install` through the prepare script).
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const built = fileURLToPath(new URL('../dist/server/cli.js', import.meta.url));
if (!existsSync(built)) {
  process.stderr.write('shoal: dist/ is missing; run `npm install` (or `npm run build`) first\n');
  process.exit(1);
}
await import(pathToFileURL(built).href);
