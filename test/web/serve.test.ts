/**
 * The server serves the UI as the browser needs it, checked without a browser: the page, its CSS
 * and every module it imports (the whole import graph, so a typo in a path fails here), uPlot from
 * /vendor/uplot/, all under the strict CSP (no inline scripts or styles in the page). Also a
 * source-level guard: nothing in web/ writes HTML from strings.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testServer, type TestServer } from '../server/helpers.js';

const WEB = join(import.meta.dirname, '..', '..', 'web');
let server: TestServer;

beforeAll(async () => {
  server = await testServer();
});
afterAll(async () => {
  await server?.close();
});

async function get(url: string) {
  return server.app.inject({ method: 'GET', url });
}

/** Relative and absolute static import specifiers of a module's text. */
function importsOf(source: string): string[] {
  return [...source.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm), ...source.matchAll(/^\s*import\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]);
}

describe('UI assets', () => {
  it('serves the page under the CSP, with scripts and styles from files only', async () => {
    const res = await get('/');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(String(res.headers['content-security-policy'])).toContain("script-src 'self'");
    const html = res.body;
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts.length).toBeGreaterThan(0);
    for (const [, attrs, body] of scripts) {
      expect(attrs).toMatch(/\bsrc="\/[^"]+"/);
      expect(body.trim()).toBe('');
    }
    expect(html).not.toMatch(/<style\b|\sstyle=|\son[a-z]+=/i);
    for (const href of [...html.matchAll(/<link rel="stylesheet" href="([^"]+)"/g)].map((m) => m[1])) {
      const css = await get(href);
      expect(css.statusCode, href).toBe(200);
      expect(css.headers['content-type']).toMatch(/^text\/css/);
    }
  });

  it('serves every module of the import graph from /js/main.js, uPlot included', async () => {
    const seen = new Set<string>();
    const queue = ['/js/main.js'];
    while (queue.length > 0) {
      const url = queue.pop()!;
      if (seen.has(url)) continue;
      seen.add(url);
      const res = await get(url);
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type'], url).toMatch(/^(application|text)\/javascript/);
      if (url.startsWith('/vendor/')) continue;
      for (const spec of importsOf(res.body)) queue.push(new URL(spec, `http://x${url}`).pathname);
    }
    expect(seen).toContain('/vendor/uplot/uPlot.esm.js');
    expect(seen.size).toBeGreaterThan(10);
    const uplotCss = await get('/vendor/uplot/uPlot.min.css');
    expect(uplotCss.statusCode).toBe(200);
  });

  it('serves nothing outside web/ and uPlot dist/', async () => {
    for (const url of ['/vendor/uplot/%2e%2e/package.json', '/%2e%2e/package.json', '/vendor/uplot/../../package.json', '/js/../../package.json']) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(404);
    }
  });

  it('never builds HTML from strings in web/ (values reach the page as text)', () => {
    const files: string[] = [];
    const walk = (dir: string): void => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(dir, e.name));
        else if (/\.(js|html)$/.test(e.name)) files.push(join(dir, e.name));
      }
    };
    walk(WEB);
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      expect(text, f).not.toMatch(/\.(innerHTML|outerHTML)\s*=|insertAdjacentHTML|document\.write|\beval\(|new Function\(/);
    }
  });
});
