// Introspection (RFC 7662) and revocation that gateways can use, on workerd with D1: active,
// expired, revoked and foreign tokens; a revoked refresh family's access tokens refused at
// /userinfo and listed at /.well-known/revoked-jtis, which a gateway verifying with `jose`
// checks offline.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT, generateKeyPair, createLocalJWKSet, jwtVerify, decodeJwt } from 'jose';
import { startIssuer, tokenRequest, passwordRequest, refreshRequest, basic, currentSigningKey, lowS, APP, M2M, ISSUER } from './harness.mjs';

const API = 'https://api.example.com';
let issuer;

before(async () => {
  issuer = await startIssuer();
});
after(async () => {
  await issuer?.mf.dispose();
});

async function introspect(token, client = M2M) {
  const res = await issuer.fetch('/oauth/introspect', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(client.id, client.secret) },
    body: new URLSearchParams({ token }).toString(),
  });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  return res.json();
}

async function machineToken() {
  return (await (await tokenRequest(issuer, { grant_type: 'client_credentials', audience: API })).json()).access_token;
}

test('discovery names the introspection endpoint; responses carry the security headers', async () => {
  const res = await issuer.fetch('/.well-known/openid-configuration');
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
  assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
  assert.equal(res.headers.get('strict-transport-security'), null, 'the test issuer is http');
  const meta = await res.json();
  assert.equal(meta.introspection_endpoint, `${ISSUER}/oauth/introspect`);
  assert.deepEqual(meta.introspection_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post']);
});

test('an active token is described; expired and foreign tokens are inactive', async () => {
  const at = await machineToken();
  const active = await introspect(at, APP);
  const claims = decodeJwt(at);
  assert.deepEqual(
    { active: active.active, client_id: active.client_id, sub: active.sub, aud: active.aud, scope: active.scope, jti: active.jti, exp: active.exp, token_type: active.token_type },
    { active: true, client_id: M2M.id, sub: M2M.id, aud: API, scope: claims.scope, jti: claims.jti, exp: claims.exp, token_type: 'Bearer' },
  );

  // Signed with the issuer's own key, but expired an hour ago.
  const { kid, key } = await currentSigningKey(issuer);
  const expired = lowS(await new SignJWT({ client_id: M2M.id, scope: 'read:data' })
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid })
    .setIssuer(ISSUER).setSubject(M2M.id).setAudience(API).setJti('expired-one')
    .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
    .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
    .sign(key));
  assert.deepEqual(await introspect(expired), { active: false });

  // Same claims, a key of someone else's (same kid claimed, and a kid of its own).
  const { privateKey } = await generateKeyPair('ES256');
  for (const headerKid of [kid, 'someone-elses']) {
    const foreign = lowS(await new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: headerKid })
      .sign(privateKey));
    assert.deepEqual(await introspect(foreign), { active: false });
  }
  assert.deepEqual(await introspect('not-a-token'), { active: false });

  const refused = await issuer.fetch('/oauth/introspect', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: at, client_id: M2M.id }).toString(),
  });
  assert.equal(refused.status, 401, 'no client secret: no answer');
});

test('a revoked refresh family: its access tokens are refused at /userinfo, inactive, and listed for gateways', async () => {
  const login = await (await passwordRequest(issuer, { scope: 'openid offline_access' })).json();
  const refreshed = await (await refreshRequest(issuer, login.refresh_token)).json();
  assert.ok(refreshed.access_token, JSON.stringify(refreshed));
  const userinfo = (token) => issuer.fetch('/userinfo', { headers: { authorization: `Bearer ${token}` } });
  assert.equal((await userinfo(refreshed.access_token)).status, 200);
  const mine = await introspect(refreshed.refresh_token, APP);
  assert.equal(mine.active, true);
  assert.equal(mine.token_type, 'refresh_token');
  assert.deepEqual(await introspect(refreshed.refresh_token, M2M), { active: false }, 'not the caller’s refresh token');

  // A gateway's view before: it verifies offline with the JWKS and the revoked list.
  const jwks = createLocalJWKSet(await (await issuer.fetch('/.well-known/jwks.json')).json());
  const listBefore = await issuer.fetch('/.well-known/revoked-jtis');
  assert.equal(listBefore.headers.get('cache-control'), 'public, max-age=60');
  const etag = listBefore.headers.get('etag');
  assert.ok(etag);
  const gatewayAccepts = async (token, list) => {
    const { payload } = await jwtVerify(token, jwks, { issuer: ISSUER, audience: `${ISSUER}/userinfo` });
    return !list.revoked.some((r) => r.jti === payload.jti);
  };
  const before = await listBefore.json();
  assert.equal(await gatewayAccepts(refreshed.access_token, before), true);

  const revoked = await issuer.fetch('/oauth/revoke', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(APP.id, APP.secret) },
    body: new URLSearchParams({ token: refreshed.refresh_token }).toString(),
  });
  assert.equal(revoked.status, 200);

  for (const token of [login.access_token, refreshed.access_token]) {
    const res = await userinfo(token);
    assert.equal(res.status, 401);
    assert.match(res.headers.get('www-authenticate'), /error="invalid_token"/);
    assert.deepEqual(await introspect(token), { active: false });
  }
  assert.deepEqual(await introspect(refreshed.refresh_token, APP), { active: false });

  const changed = await issuer.fetch('/.well-known/revoked-jtis', { headers: { 'if-none-match': etag } });
  assert.equal(changed.status, 200, 'the list changed, so the old ETag no longer matches');
  const after = await changed.json();
  assert.equal(after.issuer, ISSUER);
  const listed = after.revoked.map((r) => r.jti).sort();
  assert.deepEqual(listed, [decodeJwt(login.access_token).jti, decodeJwt(refreshed.access_token).jti].sort());
  for (const r of after.revoked) assert.ok(r.exp > Date.now() / 1000);
  assert.equal(await gatewayAccepts(refreshed.access_token, after), false);
  const same = await issuer.fetch('/.well-known/revoked-jtis', { headers: { 'if-none-match': changed.headers.get('etag') } });
  assert.equal(same.status, 304);

  // Machine tokens and other logins are untouched.
  assert.equal((await introspect(await machineToken())).active, true);
});
