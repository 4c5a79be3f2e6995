// What the browser tests share: the issuer on workerd at a free port with the trailing-slash
// issuer auth0-spa-js expects, the example SPA at another (the seed's demo-spa registered at
// its port), and headless Chromium. Screenshots go to `OUT`.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { DEV_SEED, freePort, startIssuer } from './harness.mjs';
import { startSpa } from '../../scripts/spa-server.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const OUT = new URL('../../test-output/', import.meta.url).pathname;

/** Starts the three; `close()` stops them. */
export async function startBrowserStack({ hookWorker } = {}) {
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: make test installs Debian's chromium`);
  const port = await freePort();
  const issuerOrigin = `http://127.0.0.1:${port}`;
  const spa = await startSpa({ port: 0, issuer: issuerOrigin });
  const spaUrl = `http://127.0.0.1:${spa.address().port}/`;
  const seed = JSON.parse(JSON.stringify(DEV_SEED).replaceAll('http://127.0.0.1:3000', spaUrl.slice(0, -1)));
  const issuer = await startIssuer({ port, trailingSlash: true, seed, hookWorker });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  mkdirSync(OUT, { recursive: true });
  return {
    issuer,
    browser,
    port,
    issuerOrigin,
    spaUrl,
    async close() {
      await browser.close();
      spa.close();
      await issuer.mf.dispose();
    },
  };
}
