#!/usr/bin/env node
// Adds lock-file entries for platform-specific optional dependencies that the
// registry does not serve (chdb lists darwin and linux-arm64 builds that were
// never published). `npm install` leaves such packages out of package-lock.json,
// and `npm ci` then refuses the lock as "out of sync". An entry that carries the
// package's os/cpu/libc is skipped by `npm ci` on every other platform, so it is
// never fetched. Idempotent; touches only entries that are missing.
import { readFileSync, writeFileSync } from 'node:fs';

const LOCK = new URL('../package-lock.json', import.meta.url);
const OS = new Set(['darwin', 'linux', 'win32', 'freebsd', 'android']);
const CPU = new Set(['x64', 'arm64', 'arm', 'ia32']);
const LIBC = { gnu: 'glibc', musl: 'musl' };

function platformOf(name) {
  const tokens = name.split('/').pop().split('-');
  const os = tokens.find((t) => OS.has(t));
  const cpu = tokens.find((t) => CPU.has(t));
  const libc = tokens.map((t) => LIBC[t]).find(Boolean);
  return os && cpu ? { os, cpu, libc } : undefined;
}

const lock = JSON.parse(readFileSync(LOCK, 'utf8'));
let added = 0;
for (const [path, entry] of Object.entries(lock.packages)) {
  for (const [dep, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const where = `${path ? path + '/' : ''}node_modules/${dep}`;
    if (lock.packages[where] || lock.packages[`node_modules/${dep}`]) continue;
    const platform = platformOf(dep);
    if (!platform) continue;
    lock.packages[`node_modules/${dep}`] = {
      version,
      cpu: [platform.cpu],
      ...(platform.libc ? { libc: [platform.libc] } : {}),
      optional: true,
      os: [platform.os],
    };
    added++;
  }
}
if (added > 0) {
  const sorted = {};
  for (const key of Object.keys(lock.packages).sort()) sorted[key] = lock.packages[key];
  lock.packages = sorted;
  writeFileSync(LOCK, JSON.stringify(lock, null, 2) + '\n');
}
console.log(`lock-platforms: added ${added} platform entr${added === 1 ? 'y' : 'ies'}`);
