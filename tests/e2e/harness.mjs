// Runs the built worker (build/entry.mjs, index.js + wasm) under workerd through the Miniflare API, with
// D1 and KV simulation, migrations applied and a tenant seeded: the same artefact that deploys.
import { Miniflare } from 'miniflare';
import { createDecipheriv, createHash, createPrivateKey, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { migrationStatements, seedStatements } from '../../scripts/seed.mjs';
import { createServer as createNetServer } from 'node:net';
import { createServer as createHttpServer } from 'node:http';

const root = new URL('../../', import.meta.url).pathname;
export const ISSUER = 'http://issuer.test';
export const DEV_SEED = JSON.parse(readFileSync(join(root, 'seed/dev.json'), 'utf8'));
export const TEST_KEK = Buffer.alloc(32, 42).toString('base64');

/**
 * Starts the worker. `persistDir` keeps D1 and KV across restarts; `bindings` adds vars;
 * `port` also serves it over HTTP on 127.0.0.1 (the issuer is then that origin); `outbound`
 * answers the Worker's outbound `fetch`es (a function from Request to Response); `build` names
 * the build directory (`build-conformance` for the test variant with the conformance route).
 */
export async function startIssuer({ persistDir, bindings = {}, seed = DEV_SEED, migrate = true, port, hookWorker, outbound, trailingSlash = false, issuer: named, build = 'build' } = {}) {
  const issuer = named ?? (port ? `http://127.0.0.1:${port}` : ISSUER) + (trailingSlash ? '/' : '');
  const main = {
    name: 'issuer',
    modules: true,
    scriptPath: join(root, build, 'entry.mjs'),
    modulesRules: [{ type: 'ESModule', include: ['**/*.js', '**/*.mjs'] }, { type: 'CompiledWasm', include: ['**/*.wasm'] }],
    compatibilityDate: '2026-07-01',
    d1Databases: { DB: 'edge-issuer-test' },
    kvNamespaces: { CACHE: 'edge-issuer-cache' },
    // The isolate's memory cache is off unless a test turns it on: tests edit D1 directly and
    // expect the next request to see it (the round-trip test turns it on).
    bindings: { ISSUER: issuer, KEY_ENCRYPTION_KEY: TEST_KEK, CACHE_TTL_SECONDS: '0', ...bindings },
    ...(hookWorker ? { serviceBindings: { HOOKS: 'hooks' } } : {}),
    // Answers the Worker's outbound fetches (hooks on https URLs) in this process.
    ...(outbound ? { outboundService: outbound } : {}),
  };
  // A second Worker, reached over a service binding, answers hooks.
  const workers = hookWorker
    ? [main, { name: 'hooks', modules: true, scriptPath: hookWorker.scriptPath, compatibilityDate: '2026-07-01', bindings: hookWorker.bindings }]
    : [main];
  const mf = new Miniflare({
    ...(port ? { host: '127.0.0.1', port } : {}),
    workers,
    d1Persist: persistDir ? join(persistDir, 'd1') : false,
    kvPersist: persistDir ? join(persistDir, 'kv') : false,
  });
  const db = await mf.getD1Database('DB');
  if (migrate) {
    const dir = join(root, 'migrations');
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.sql')).sort()) {
      for (const stmt of migrationStatements(readFileSync(join(dir, file), 'utf8'))) {
        await db.prepare(stmt).run();
      }
    }
  }
  for (const stmt of seedStatements(seed, { issuer, kek: TEST_KEK })) await db.prepare(stmt).run();
  const fetch = (path, init) => mf.dispatchFetch(new URL(path, issuer), init);
  return { mf, db, fetch, issuer, kv: () => mf.getKVNamespace('CACHE') };
}

export const M2M = { id: 'demo-m2m', secret: 'dev-only-demo-m2m-secret' };

/** A `fetch` that reaches `issuer` through Miniflare, for an SDK's `fetch` option: a URL, or a
 * Request (its body read first). */
export function fetchThrough(issuer) {
  return async (input, init) => {
    if (typeof input === 'string' || input instanceof URL) return issuer.mf.dispatchFetch(input, init);
    const body = ['GET', 'HEAD'].includes(input.method) ? undefined : await input.text();
    return issuer.mf.dispatchFetch(input.url, { method: input.method, headers: Object.fromEntries(input.headers), body });
  };
}

export function basic(id, secret) {
  const enc = (s) => encodeURIComponent(s);
  return `Basic ${Buffer.from(`${enc(id)}:${enc(secret)}`).toString('base64')}`;
}

/** POSTs a form to the token endpoint with Basic client authentication. */
export function tokenRequest(issuer, form, { id = M2M.id, secret = M2M.secret } = {}) {
  return issuer.fetch('/oauth/token', {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: basic(id, secret),
    },
    body: new URLSearchParams(form).toString(),
  });
}

export const APP = { id: 'demo-app', secret: 'dev-only-demo-app-secret' };
export const USER = { email: 'demo@example.com', password: 'dev-only-demo-password', id: 'auth0|6565a1b2c3d4e5f600000001' };

/** A password-grant request from demo-app; `ip` sets the client address the issuer sees. */
export function passwordRequest(issuer, form = {}, { ip = '192.0.2.10', client = APP } = {}) {
  return issuer.fetch('/oauth/token', {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: basic(client.id, client.secret),
      'cf-connecting-ip': ip,
    },
    body: new URLSearchParams({ grant_type: 'password', username: USER.email, password: USER.password, ...form }).toString(),
  });
}

/** A refresh request from demo-app. */
export function refreshRequest(issuer, refreshToken, form = {}) {
  return issuer.fetch('/oauth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(APP.id, APP.secret) },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, ...form }).toString(),
  });
}

/**
 * The issuer's current ES256 signing key, opened from D1 with the test KEK: how a test signs
 * a token no grant would issue (expired, claiming too much) with a key the issuer trusts.
 */
export async function currentSigningKey(issuer) {
  await issuer.fetch('/.well-known/jwks.json'); // makes the keys if there are none yet
  const { results } = await issuer.db
    .prepare("SELECT kid, private_key_enc FROM signing_keys WHERE alg = 'ES256' AND status = 'current'")
    .all();
  const [{ kid, private_key_enc: sealed }] = results;
  const [, nonce, body] = sealed.split('.');
  const raw = Buffer.from(body, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', Buffer.from(TEST_KEK, 'base64'), Buffer.from(nonce, 'base64'));
  decipher.setAAD(Buffer.from(kid));
  decipher.setAuthTag(raw.subarray(raw.length - 16));
  const der = Buffer.concat([decipher.update(raw.subarray(0, raw.length - 16)), decipher.final()]);
  return { kid, key: createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }) };
}

const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/**
 * An ES256 JWT with its signature's `s` made low (`n - s` when above `n / 2`): the form the
 * issuer signs and the only one it verifies. Node's WebCrypto, under `jose`, returns either.
 */
export function lowS(jwt) {
  const [input1, input2, sig] = jwt.split('.');
  const raw = Buffer.from(sig, 'base64url');
  const s = BigInt(`0x${raw.subarray(32).toString('hex')}`);
  if (s <= P256_N / 2n) return jwt;
  const low = Buffer.from((P256_N - s).toString(16).padStart(64, '0'), 'hex');
  return `${input1}.${input2}.${Buffer.concat([raw.subarray(0, 32), low]).toString('base64url')}`;
}

/** A port nothing listens on now on 127.0.0.1, so tests run beside `make dev` (8787, 3000). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

/** The hidden fields of one of the issuer's pages (a login form, a form_post), decoded. */
export function hiddenFields(html) {
  const out = new URLSearchParams();
  const decode = (v) => v.replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
  for (const m of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
    out.append(decode(m[1]), decode(m[2]));
  }
  return out;
}

/**
 * The issuer on `port` with a client's redirect URI to come back to: a page on its own port
 * that only says the browser arrived, put in the seed in place of the dev SPA's origin.
 * Answers `{issuer, app, appOrigin}`; close `app` and dispose `issuer.mf` after.
 */
export async function startIssuerWithApp(port) {
  const app = createHttpServer((req, res) => res.end('<!doctype html><title>back</title>back')).listen(0, '127.0.0.1');
  await new Promise((r) => app.once('listening', r));
  const appOrigin = `http://127.0.0.1:${app.address().port}`;
  const seed = JSON.parse(JSON.stringify(DEV_SEED).replaceAll('http://127.0.0.1:3000', appOrigin));
  const issuer = await startIssuer({ port, seed });
  return { issuer, app, appOrigin };
}

/** A PKCE verifier and its S256 challenge (RFC 7636). */
export function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}
