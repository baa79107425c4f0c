import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Hono } from 'hono';
import { AndonError } from '../../core/index.ts';

const here = dirname(fileURLToPath(import.meta.url));
const uplotDist = dirname(createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js'));

interface Asset {
  file: string;
  type: string;
}

/**
 * The web UI's static files, served by andon itself (no CDN, so a plant network without internet works): uPlot and the
 * small client-script islands. Read once, on first use, and cached by the browser for an hour.
 */
export const ASSETS: Record<string, Asset> = {
  'uplot.js': { file: join(uplotDist, 'uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
  'uplot.css': { file: join(uplotDist, 'uPlot.min.css'), type: 'text/css; charset=utf-8' },
  'andon.css': { file: join(here, 'client', 'andon.css'), type: 'text/css; charset=utf-8' },
  'overview.js': { file: join(here, 'client', 'overview.js'), type: 'text/javascript; charset=utf-8' },
  'case.js': { file: join(here, 'client', 'case.js'), type: 'text/javascript; charset=utf-8' },
  'sign-dialog.js': { file: join(here, 'client', 'sign-dialog.js'), type: 'text/javascript; charset=utf-8' },
};

/** URL of a UI asset, e.g. `assetUrl('uplot.js')` → `/ui/assets/uplot.js`. */
export const assetUrl = (name: keyof typeof ASSETS & string): string => `/ui/assets/${name}`;

// biome-ignore lint/suspicious/noExplicitAny: mounted on the main app whatever its context variables
export function registerAssets(app: Hono<any>): void {
  const cache = new Map<string, string>();
  app.get('/ui/assets/:name', (c) => {
    const name = c.req.param('name');
    const asset = Object.hasOwn(ASSETS, name) ? ASSETS[name] : undefined;
    if (!asset) throw new AndonError('not_found', `There is no UI asset called ${name}.`);
    let body = cache.get(name);
    if (body === undefined) {
      body = readFileSync(asset.file, 'utf8');
      cache.set(name, body);
    }
    c.header('content-type', asset.type);
    c.header('cache-control', 'public, max-age=3600');
    return c.body(body);
  });
}
