// client_credentials end to end: the built worker under workerd with D1 and KV, tokens
// verified by `jose` against the published JWKS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, createRemoteJWKSet, customFetch, jwtVerify, decodeProtectedHeader } from 'jose';
import { startIssuer, tokenRequest, ISSUER, M2M, basic } from './harness.mjs';

const API = 'https://api.example.com';
let issuer;

before(async () => {
  issuer = await startIssuer();
});
after(async () => {
  await issuer?.mf.dispose();
});

function remoteJwks(iss) {
  return createRemoteJWKSet(new URL('/.well-known/jwks.json', ISSUER), {
    [customFetch]: (url, init) => iss.mf.dispatchFetch(url, init),
  });
}

test('discovery tells the truth about the token endpoint and JWKS', async () => {
  const res = await issuer.fetch('/.well-known/openid-configuration');
  assert.equal(res.status, 200);
  const meta = await res.json();
  assert.equal(meta.issuer, ISSUER);
  assert.equal(meta.token_endpoint, `${ISSUER}/oauth/token`);
  assert.equal(meta.jwks_uri, `${ISSUER}/.well-known/jwks.json`);
  assert.deepEqual(meta.grant_types_supported, ['authorization_code', 'client_credentials', 'password', 'refresh_token', 'http://auth0.com/oauth/grant-type/passwordless/otp', 'http://auth0.com/oauth/grant-type/mfa-otp', 'http://auth0.com/oauth/grant-type/mfa-recovery-code', 'implicit']);
  assert.equal(meta.authorization_endpoint, `${ISSUER}/authorize`);
  assert.deepEqual(meta.token_endpoint_auth_methods_supported, ['client_secret_basic', 'client_secret_post', 'none']);
  assert.equal(meta.userinfo_endpoint, `${ISSUER}/userinfo`);
  assert.equal(meta.revocation_endpoint, `${ISSUER}/oauth/revoke`);
  assert.ok(meta.id_token_signing_alg_values_supported.includes('RS256'));
  const rfc8414 = await (await issuer.fetch('/.well-known/oauth-authorization-server')).json();
  assert.deepEqual(rfc8414, meta);
});

test('jose verifies a client_credentials token against the published JWKS', async () => {
  const res = await tokenRequest(issuer, { grant_type: 'client_credentials', audience: API });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.equal(res.headers.get('pragma'), 'no-cache');
  const body = await res.json();
  assert.equal(body.token_type, 'Bearer');
  assert.equal(body.expires_in, 86400);
  assert.equal(body.scope, 'read:data');
  assert.equal(body.refresh_token, undefined);

  const { payload, protectedHeader } = await jwtVerify(body.access_token, remoteJwks(issuer), {
    issuer: ISSUER,
    audience: API,
    typ: 'at+jwt',
    algorithms: ['ES256'],
  });
  assert.equal(protectedHeader.alg, 'ES256');
  assert.equal(payload.sub, M2M.id);
  assert.equal(payload.client_id, M2M.id);
  assert.equal(payload.gty, 'client-credentials');
  assert.equal(payload.scope, 'read:data');
  assert.equal(payload.exp - payload.iat, 86400);
  assert.ok(Math.abs(payload.iat - Date.now() / 1000) < 60);
  assert.match(payload.jti, /^[A-Za-z0-9_-]{22,}$/);
});

test('a token with one flipped signature byte is refused by the issuer itself', async () => {
  const body = await (await tokenRequest(issuer, { grant_type: 'client_credentials' })).json();
  const [h, p, s] = body.access_token.split('.');
  const sig = Buffer.from(s, 'base64url');
  sig[10] ^= 0x01;
  const forged = `${h}.${p}.${sig.toString('base64url')}`;
  const userinfo = (token) => issuer.fetch('/userinfo', { headers: { authorization: `Bearer ${token}` } });
  // The token as issued passes the signature check and is refused for what it is (no user);
  // flipped, the signature check refuses it first.
  const genuine = await userinfo(body.access_token);
  const genuineChallenge = genuine.headers.get('www-authenticate');
  assert.doesNotMatch(genuineChallenge, /signature/);
  const res = await userinfo(forged);
  assert.equal(res.status, 401);
  assert.match(res.headers.get('www-authenticate'), /^Bearer realm="[^"]+", error="invalid_token", error_description="[^"]*signature/);
  assert.equal((await res.json()).error, 'invalid_token');
});

test('a wrong secret is 401 invalid_client with a Basic challenge', async () => {
  const res = await tokenRequest(issuer, { grant_type: 'client_credentials' }, { secret: 'wrong' });
  assert.equal(res.status, 401);
  assert.match(res.headers.get('www-authenticate'), /^Basic realm=/);
  assert.equal(res.headers.get('cache-control'), 'no-store');
  assert.equal((await res.json()).error, 'invalid_client');
});

test('client_secret_post works and both methods at once are refused', async () => {
  const form = { grant_type: 'client_credentials', client_id: M2M.id, client_secret: M2M.secret };
  const post = await issuer.fetch('/oauth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString(),
  });
  assert.equal(post.status, 200);
  const both = await issuer.fetch('/oauth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(M2M.id, M2M.secret) },
    body: new URLSearchParams(form).toString(),
  });
  assert.equal(both.status, 400);
  assert.equal((await both.json()).error, 'invalid_request');
});

test('an unknown grant type is unsupported_grant_type', async () => {
  const res = await tokenRequest(issuer, { grant_type: 'urn:example:unknown' });
  assert.equal(res.status, 400);
  assert.equal((await res.json()).error, 'unsupported_grant_type');
});

test('scope beyond the grant is invalid_scope; an unknown audience is invalid_request', async () => {
  const wide = await tokenRequest(issuer, { grant_type: 'client_credentials', scope: 'read:data write:data' });
  assert.equal(wide.status, 400);
  assert.equal((await wide.json()).error, 'invalid_scope');
  const unknown = await tokenRequest(issuer, { grant_type: 'client_credentials', audience: 'https://nope.example' });
  assert.equal((await unknown.json()).error, 'invalid_request');
  const target = await tokenRequest(issuer, { grant_type: 'client_credentials', resource: 'https://nope.example' });
  assert.equal((await target.json()).error, 'invalid_target');
});

test('JSON bodies are accepted; other content types, duplicates and huge bodies are not', async () => {
  const json = await issuer.fetch('/oauth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', client_id: M2M.id, client_secret: M2M.secret }),
  });
  assert.equal(json.status, 200);
  const text = await issuer.fetch('/oauth/token', {
    method: 'POST',
    headers: { 'content-type': 'text/plain', authorization: basic(M2M.id, M2M.secret) },
    body: 'grant_type=client_credentials',
  });
  assert.equal((await text.json()).error, 'invalid_request');
  const dup = await issuer.fetch('/oauth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(M2M.id, M2M.secret) },
    body: 'grant_type=client_credentials&grant_type=client_credentials',
  });
  assert.equal((await dup.json()).error, 'invalid_request');
  const huge = await issuer.fetch('/oauth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `grant_type=client_credentials&x=${'a'.repeat(70 * 1024)}`,
  });
  assert.equal(huge.status, 413);
  await huge.arrayBuffer();
});

test('the JWKS is cacheable and answers 304 to its own ETag', async () => {
  const res = await issuer.fetch('/.well-known/jwks.json');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('cache-control'), /^public, max-age=\d+$/);
  const etag = res.headers.get('etag');
  assert.ok(etag);
  const { keys } = await res.json();
  // Per algorithm the current key and the next one.
  assert.equal(keys.length, 4);
  const ec = keys.find((k) => k.alg === 'ES256');
  assert.deepEqual({ kty: ec.kty, crv: ec.crv, use: ec.use }, { kty: 'EC', crv: 'P-256', use: 'sig' });
  const rsa = keys.find((k) => k.alg === 'RS256');
  assert.deepEqual({ kty: rsa.kty, e: rsa.e, use: rsa.use }, { kty: 'RSA', e: 'AQAB', use: 'sig' });
  for (const k of keys) {
    assert.equal(k.d, undefined, 'no private part');
    assert.equal(k.p, undefined, 'no private part');
  }
  const again = await issuer.fetch('/.well-known/jwks.json', { headers: { 'if-none-match': etag } });
  assert.equal(again.status, 304);
  await again.arrayBuffer();
});

test('the client row is cached in KV after a token request', async () => {
  await tokenRequest(issuer, { grant_type: 'client_credentials' });
  const kv = await issuer.kv();
  let cached = null;
  for (let i = 0; i < 20 && !cached; i++) {
    cached = await kv.get(`v5:client:${M2M.id}`, 'json');
    if (!cached) await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(cached?.client?.client_id, M2M.id);
  assert.equal(cached?.client?.secret_hash?.startsWith('sha256:'), true);
});

test('a restarted worker keeps its signing key (it lives in D1)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edge-issuer-'));
  try {
    const first = await startIssuer({ persistDir: dir });
    const t1 = (await (await tokenRequest(first, { grant_type: 'client_credentials' })).json()).access_token;
    const jwks1 = await (await first.fetch('/.well-known/jwks.json')).json();
    await first.mf.dispose();

    const second = await startIssuer({ persistDir: dir, migrate: false });
    try {
      const jwks2 = await (await second.fetch('/.well-known/jwks.json')).json();
      assert.deepEqual(jwks2, jwks1);
      const t2 = (await (await tokenRequest(second, { grant_type: 'client_credentials' })).json()).access_token;
      assert.equal(decodeProtectedHeader(t2).kid, decodeProtectedHeader(t1).kid);
      await jwtVerify(t1, createLocalJWKSet(jwks2), { issuer: ISSUER, audience: API });
    } finally {
      await second.mf.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('concurrent first requests create exactly one current key', async () => {
  const fresh = await startIssuer();
  try {
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => tokenRequest(fresh, { grant_type: 'client_credentials' })),
    );
    const tokens = await Promise.all(responses.map((r) => r.json()));
    const { results } = await fresh.db.prepare("SELECT count(*) AS n FROM signing_keys WHERE alg = 'ES256'").all();
    assert.equal(results[0].n, 1);
    // The JWKS adds the next key, published ahead of the next rotation: current and next.
    const jwks = await (await fresh.fetch('/.well-known/jwks.json')).json();
    assert.equal(jwks.keys.filter((k) => k.alg === 'ES256').length, 2);
    const signer = decodeProtectedHeader(tokens[0].access_token).kid;
    assert.ok(tokens.every((t) => decodeProtectedHeader(t.access_token).kid === signer));
    for (const t of tokens) {
      await jwtVerify(t.access_token, createLocalJWKSet(jwks), { issuer: ISSUER, audience: API });
    }
  } finally {
    await fresh.mf.dispose();
  }
});
