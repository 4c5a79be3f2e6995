// Users end to end on workerd with real D1: password grant, refresh rotation and reuse
// detection, revocation, /userinfo, RS256 ID tokens and password-hash upgrades; every token is
// verified by `jose` against the published JWKS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import bcrypt from 'bcryptjs';
import { createRemoteJWKSet, customFetch, decodeProtectedHeader, jwtVerify } from 'jose';
import { startIssuer, tokenRequest, passwordRequest, refreshRequest, basic, ISSUER, APP, USER } from './harness.mjs';

const API = 'https://api.example.com';
const USERINFO = `${ISSUER}/userinfo`;
const FULL = { scope: 'openid profile email offline_access read:data' };
let issuer;
let jwks;

before(async () => {
  issuer = await startIssuer();
  jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', ISSUER), {
    [customFetch]: (url, init) => issuer.mf.dispatchFetch(url, init),
  });
});
after(async () => {
  await issuer?.mf.dispose();
});

async function ok(resPromise) {
  const res = await resPromise;
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return body;
}

function userinfo(token, init = {}) {
  return issuer.fetch('/userinfo', { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) } });
}

test('password grant returns access, ID and refresh tokens that jose verifies', async () => {
  const body = await ok(passwordRequest(issuer, FULL));
  assert.equal(body.scope, FULL.scope);
  const at = await jwtVerify(body.access_token, jwks, { issuer: ISSUER, audience: API, typ: 'at+jwt', algorithms: ['ES256'] });
  assert.equal(at.payload.sub, USER.id);
  assert.deepEqual(at.payload.aud, [API, USERINFO]);
  assert.equal(at.payload.gty, 'password');
  const id = await jwtVerify(body.id_token, jwks, { issuer: ISSUER, audience: APP.id, algorithms: ['RS256'] });
  assert.equal(id.payload.sub, USER.id);
  assert.equal(id.payload.email, USER.email);
  assert.equal(id.payload.name, 'Demo User');
  assert.equal(id.payload.azp, APP.id);
  assert.ok(id.payload.auth_time);
  assert.match(body.refresh_token, /^[A-Za-z0-9_-]{43}$/);
});

test('refresh rotates; a second use of the old token revokes the newer one too', async () => {
  const first = await ok(passwordRequest(issuer, FULL));
  const second = await ok(refreshRequest(issuer, first.refresh_token));
  assert.notEqual(second.refresh_token, first.refresh_token);
  await jwtVerify(second.access_token, jwks, { issuer: ISSUER, audience: API });
  await jwtVerify(second.id_token, jwks, { issuer: ISSUER, audience: APP.id });

  const replay = await refreshRequest(issuer, first.refresh_token);
  assert.equal(replay.status, 400);
  assert.equal((await replay.json()).error, 'invalid_grant');
  const newer = await refreshRequest(issuer, second.refresh_token);
  assert.equal(newer.status, 400, 'the family was revoked');
  assert.equal((await newer.json()).error, 'invalid_grant');
});

test('20 parallel refreshes of one token: at most one succeeds, the rest are reuse', async () => {
  // A losing concurrent use is reuse (RFC 9700 §4.14.2) and revokes the family; the winner's
  // new token is then refused too, so "none" is a correct outcome as well as "one".
  const first = await ok(passwordRequest(issuer, FULL));
  const results = await Promise.all(Array.from({ length: 20 }, () => refreshRequest(issuer, first.refresh_token)));
  const statuses = await Promise.all(results.map(async (r) => (await r.arrayBuffer(), r.status)));
  assert.ok(statuses.filter((s) => s === 200).length <= 1, statuses.join(','));
  assert.ok(statuses.filter((s) => s === 400).length >= 19);
});

test('an admin change to the user shows at the next refresh and at /userinfo', async () => {
  const first = await ok(passwordRequest(issuer, FULL));
  await issuer.db
    .prepare("UPDATE users SET name = ?1, app_metadata = json_set(app_metadata, '$.plan', 'enterprise') WHERE user_id = ?2")
    .bind('Renamed User', USER.id)
    .run();
  const second = await ok(refreshRequest(issuer, first.refresh_token));
  const id = await jwtVerify(second.id_token, jwks, { issuer: ISSUER, audience: APP.id });
  assert.equal(id.payload.name, 'Renamed User');
  const info = await (await userinfo(second.access_token)).json();
  assert.equal(info.sub, USER.id);
  assert.equal(info.name, 'Renamed User');
  const { results } = await issuer.db.prepare('SELECT app_metadata FROM users WHERE user_id = ?1').bind(USER.id).all();
  assert.equal(JSON.parse(results[0].app_metadata).plan, 'enterprise');
  await issuer.db.prepare("UPDATE users SET name = 'Demo User' WHERE user_id = ?1").bind(USER.id).run();
});

test('/userinfo answers a client_credentials token with 401 and a clear description', async () => {
  const m2m = await ok(tokenRequest(issuer, { grant_type: 'client_credentials' }));
  const res = await userinfo(m2m.access_token);
  assert.equal(res.status, 401);
  const challenge = res.headers.get('www-authenticate');
  assert.match(challenge, /^Bearer realm="[^"]+", error="invalid_token", error_description="[^"]*no end-user subject/);
  const none = await issuer.fetch('/userinfo');
  assert.equal(none.status, 401);
  assert.equal(none.headers.get('www-authenticate'), `Bearer realm="${ISSUER}"`);
  await none.arrayBuffer();
});

// Clients are read through the KV cache (60 s); an edit drops the cached entry, as the
// management API will.
async function setIdTokenAlg(alg) {
  await issuer.db.prepare('UPDATE clients SET id_token_signed_response_alg = ?1 WHERE client_id = ?2').bind(alg, APP.id).run();
  await (await issuer.kv()).delete(`v5:client:${APP.id}`);
}

test('an RS256 ID token for a client that asks for it verifies with jose', async () => {
  await setIdTokenAlg('RS256');
  try {
    const body = await ok(passwordRequest(issuer, { scope: 'openid' }, { client: APP }));
    assert.equal(decodeProtectedHeader(body.id_token).alg, 'RS256');
    const id = await jwtVerify(body.id_token, jwks, { issuer: ISSUER, audience: APP.id, algorithms: ['RS256'] });
    assert.equal(id.payload.sub, USER.id);
    assert.equal(decodeProtectedHeader(body.access_token).alg, 'ES256');
  } finally {
    await setIdTokenAlg('ES256');
  }
});

test('ten failures lock the user for that IP only (counted in D1)', async () => {
  const ip = '198.51.100.77';
  for (let i = 0; i < 10; i++) {
    const res = await passwordRequest(issuer, { password: 'wrong' }, { ip });
    assert.equal((await res.json()).error, 'invalid_grant');
  }
  const locked = await (await passwordRequest(issuer, {}, { ip })).json();
  assert.equal(locked.error, 'invalid_grant');
  assert.match(locked.error_description, /blocked/);
  await ok(passwordRequest(issuer, {}, { ip: '198.51.100.78' }));
});

test('revoking a refresh token kills its family', async () => {
  const first = await ok(passwordRequest(issuer, FULL));
  const res = await issuer.fetch('/oauth/revoke', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(APP.id, APP.secret) },
    body: new URLSearchParams({ token: first.refresh_token, token_type_hint: 'refresh_token' }).toString(),
  });
  assert.equal(res.status, 200);
  await res.arrayBuffer();
  const after = await refreshRequest(issuer, first.refresh_token);
  assert.equal((await after.json()).error, 'invalid_grant');
});

test('an imported bcrypt hash logs in and is upgraded to PBKDF2 in D1', async () => {
  const imported = bcrypt.hashSync(USER.password, 4);
  await issuer.db.prepare('UPDATE users SET password_hash = ?1 WHERE user_id = ?2').bind(imported, USER.id).run();
  await ok(passwordRequest(issuer, {}, { ip: '192.0.2.99' }));
  const { results } = await issuer.db.prepare('SELECT password_hash FROM users WHERE user_id = ?1').bind(USER.id).all();
  assert.match(results[0].password_hash, /^\$pbkdf2-sha256\$i=100000\$/);
  await ok(passwordRequest(issuer, {}, { ip: '192.0.2.99' }));
});

test('an API that asks for RS256 gets RS256 access tokens: jose verifies them and /userinfo accepts them', async () => {
  const setAlg = async (alg) => {
    await issuer.db.prepare('UPDATE apis SET signing_alg = ?1 WHERE identifier = ?2').bind(alg, API).run();
    await (await issuer.kv()).delete(`v5:api:${API}`);
  };
  await setAlg('RS256');
  try {
    const body = await ok(passwordRequest(issuer, { scope: 'openid read:data', audience: API }));
    assert.equal(decodeProtectedHeader(body.access_token).alg, 'RS256');
    const at = await jwtVerify(body.access_token, jwks, { issuer: ISSUER, audience: API, typ: 'at+jwt', algorithms: ['RS256'] });
    assert.equal(at.payload.sub, USER.id);
    const res = await userinfo(body.access_token);
    assert.equal(res.status, 200);
  } finally {
    await setAlg('ES256');
  }
});
