// A custom database on workerd: the tenant's own user store is a small HTTP service on its own
// port that checks the issuer's signature (HMAC-SHA256 over "t.body") and answers
// login(email, password) from its own table. The connection is made through the management
// API with Auth0's option names, in import mode: the first password-realm login asks the
// store and stores the user here; the second makes no outbound call. The store's
// app_metadata reaches the ID token through the seed's rule; a timeout fails closed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { APP, basic, freePort, startIssuer } from './harness.mjs';
import { adminToken } from './management.mjs';

const SECRET = 'the-user-store-signing-secret-0123456789';
const LEGACY = { email: 'kim@legacy.example', password: 'an old password from the old system' };
let issuer;
let store;
let calls = 0;
let stall = false;

before(async () => {
  store = http.createServer(async (req, res) => {
    let body = '';
    for await (const chunk of req) body += chunk;
    calls++;
    if (stall) return; // never answers: the issuer's timeout decides
    const header = req.headers['x-edge-issuer-signature'] ?? '';
    const [, t, v1] = header.match(/^t=(\d+),v1=([0-9a-f]{64})$/) ?? [];
    const expected = createHmac('sha256', SECRET).update(`${t}.${body}`).digest();
    if (!v1 || !timingSafeEqual(Buffer.from(v1, 'hex'), expected)) return res.writeHead(403).end();
    const { action, email, password } = JSON.parse(body);
    if (action !== 'login' || email !== LEGACY.email || password !== LEGACY.password) return res.writeHead(401).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({
      user_id: 'legacy-1001', email: LEGACY.email, email_verified: true, name: 'Kim from the old system',
      app_metadata: { plan: 'gold', legacy_roles: ['billing-admin'] },
    }));
  }).listen(0, '127.0.0.1');
  await new Promise((r) => store.once('listening', r));
  issuer = await startIssuer({ port: await freePort() });
});
after(async () => {
  store?.close();
  await issuer?.mf.dispose();
});


function login(password = LEGACY.password) {
  return issuer.fetch('/oauth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(APP.id, APP.secret) },
    body: new URLSearchParams({
      grant_type: 'http://auth0.com/oauth/grant-type/password-realm', realm: 'legacy-db',
      username: LEGACY.email, password, scope: 'openid profile',
    }),
  });
}

test('import mode: the store answers the first login, later logins stay here', async () => {
  const token = await adminToken(issuer);
  const made = await issuer.fetch('/api/v2/connections', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'legacy-db', strategy: 'auth0',
      options: {
        enabledDatabaseCustomization: true, import_mode: true,
        customScripts: { login: `http://127.0.0.1:${store.address().port}/login` },
        configuration: { signing_secret: SECRET },
      },
      enabled_clients: [APP.id],
    }),
  });
  const connection = await made.json();
  assert.equal(made.status, 201, JSON.stringify(connection));
  const read = await (await issuer.fetch(`/api/v2/connections/${connection.id}`, { headers: { authorization: `Bearer ${token}` } })).json();
  assert.equal(JSON.stringify([connection, read]).includes(SECRET), false, 'the secret is never shown');

  const first = await login();
  const tokens = await first.json();
  assert.equal(first.status, 200, JSON.stringify(tokens));
  assert.equal(calls, 1);
  const jwks = createRemoteJWKSet(new URL(`${issuer.issuer}/.well-known/jwks.json`));
  const { payload } = await jwtVerify(tokens.id_token, jwks, { issuer: issuer.issuer, audience: APP.id });
  assert.equal(payload.sub, 'auth0|legacy-1001');
  assert.equal(payload.name, 'Kim from the old system');
  assert.deepEqual(payload['https://example.com/app_metadata'], { plan: 'gold', legacy_roles: ['billing-admin'] }, 'the store profile, through the seed rule');

  const second = await login();
  assert.equal(second.status, 200);
  const wrong = await login('not it');
  assert.equal(wrong.status, 400);
  assert.equal((await wrong.json()).error, 'invalid_grant');
  assert.equal(calls, 1, 'imported: no call out after the first login');
});

test('a store that does not answer fails closed within the timeout, storing nobody', async () => {
  const token = await adminToken(issuer);
  const made = await issuer.fetch('/api/v2/connections', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'stalled-db', strategy: 'auth0',
      options: {
        enabledDatabaseCustomization: true,
        customScripts: { login: `http://127.0.0.1:${store.address().port}/login` },
        configuration: { signing_secret: SECRET },
      },
      enabled_clients: [APP.id],
    }),
  });
  assert.equal(made.status, 201);
  stall = true;
  const started = Date.now();
  const resp = await issuer.fetch('/oauth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(APP.id, APP.secret) },
    body: new URLSearchParams({ grant_type: 'http://auth0.com/oauth/grant-type/password-realm', realm: 'stalled-db', username: 'new@legacy.example', password: 'whatever it is' }),
  });
  stall = false;
  assert.equal(resp.status, 500);
  assert.equal((await resp.json()).error, 'server_error');
  assert.ok(Date.now() - started < 9000, 'the 5 s timeout, not a hang');
  const { results } = await issuer.db.prepare("SELECT count(*) AS n FROM users WHERE connection = 'stalled-db'").all();
  assert.equal(results[0].n, 0);
});
