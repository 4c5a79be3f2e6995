// Serves the example SPA (examples/spa) on http://127.0.0.1:3000, with Auth0's SPA SDK from
// node_modules and a config.js naming the issuer. `make dev` starts it; the browser test too.
//
//   node scripts/spa-server.mjs [--port 3000] [--issuer http://127.0.0.1:8787]
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8' };

/** Starts the server; resolves once it listens. */
export function startSpa({ port = 3000, issuer = 'http://127.0.0.1:8787', clientId = 'demo-spa', audience = 'https://api.example.com' } = {}) {
  const files = {
    '/': 'examples/spa/index.html',
    '/app.js': 'examples/spa/app.js',
    '/app.css': 'examples/spa/app.css',
    '/vendor/auth0-spa-js.production.js': 'node_modules/@auth0/auth0-spa-js/dist/auth0-spa-js.production.js',
  };
  const config = `window.EXAMPLE_CONFIG = ${JSON.stringify({ domain: issuer.replace(/\/+$/, ''), clientId, audience })};\n`;
  const server = createServer(async (req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (path === '/config.js') {
      res.writeHead(200, { 'content-type': TYPES['.js'], 'cache-control': 'no-store' });
      return res.end(config);
    }
    const file = files[path];
    if (!file) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      return res.end('not found');
    }
    try {
      const body = await readFile(join(root, file));
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-store' });
      res.end(body);
    } catch {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`cannot read ${file}: run npm ci`);
    }
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : fallback;
  };
  const port = Number(arg('port', 3000));
  await startSpa({ port, issuer: arg('issuer', 'http://127.0.0.1:8787') });
  console.log(`example SPA: http://127.0.0.1:${port}/`);
}
