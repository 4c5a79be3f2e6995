// Storage round trips per request on workerd with D1 and KV, read from the isolate's counters
// (`/__bench/counters`, BENCH=1): with the isolate's memory cache on, a warm client_credentials
// token touches no storage at all, nor do discovery and the JWKS; user grants make the D1
// batches tests/round_trips.rs pins and nothing more.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIssuer, tokenRequest, passwordRequest, refreshRequest, lowS } from './harness.mjs';

const API = 'https://api.example.com';
let issuer;

before(async () => {
  issuer = await startIssuer({ bindings: { BENCH: '1', CACHE_TTL_SECONDS: '60' } });
});
after(async () => {
  await issuer?.mf.dispose();
});

async function counters() {
  return (await issuer.fetch('/__bench/counters')).json();
}

/** D1 round trips and KV reads that `run` makes. */
async function cost(run) {
  const before = await counters();
  await run();
  const after = await counters();
  return { d1: after.d1_round_trips - before.d1_round_trips, kv: after.kv_reads - before.kv_reads };
}

test('a warm client_credentials token and discovery touch no storage', async (t) => {
  const cc = () => tokenRequest(issuer, { grant_type: 'client_credentials', audience: API }).then((r) => r.arrayBuffer());
  await cc(); // warms the key, the client and the pipeline
  const five = await cost(async () => {
    for (let i = 0; i < 5; i++) await cc();
  });
  t.diagnostic(`client_credentials x5: ${JSON.stringify(five)}`);
  assert.deepEqual(five, { d1: 0, kv: 0 });
  const discovery = await cost(() => issuer.fetch('/.well-known/openid-configuration').then((r) => r.arrayBuffer()));
  assert.deepEqual(discovery, { d1: 0, kv: 0 });
});

test('user grants and /userinfo make one D1 batch to read and one to commit', async (t) => {
  const form = { audience: API, scope: 'openid offline_access read:data' };
  const password = () => passwordRequest(issuer, form).then((r) => r.json());
  await password(); // warms the client, the API and the pipeline
  let body;
  const login = await cost(async () => { body = await password(); });
  t.diagnostic(`password: ${JSON.stringify(login)}`);
  // The attempt counter, the user batch, the commit batch.
  assert.deepEqual(login, { d1: 3, kv: 0 });
  assert.ok(body.refresh_token, JSON.stringify(body));

  let next;
  const refresh = await cost(async () => { next = await (await refreshRequest(issuer, body.refresh_token)).json(); });
  t.diagnostic(`refresh_token: ${JSON.stringify(refresh)}`);
  assert.deepEqual(refresh, { d1: 2, kv: 0 });
  assert.ok(next.access_token, JSON.stringify(next));

  const userinfo = () => issuer.fetch('/userinfo', { headers: { authorization: `Bearer ${next.access_token}` } });
  (await userinfo()).arrayBuffer();
  let status;
  const info = await cost(async () => { status = (await userinfo()).status; });
  assert.equal(status, 200);
  assert.deepEqual(info, { d1: 1, kv: 0 }, 'userinfo');

  const jwks = () => issuer.fetch('/.well-known/jwks.json').then((r) => r.arrayBuffer());
  await jwks();
  assert.deepEqual(await cost(jwks), { d1: 0, kv: 0 }, 'jwks');
});

test('a rule saved through this isolate shows at its next token, cache or not', async () => {
  const admin = await (
    await tokenRequest(issuer, { grant_type: 'client_credentials', audience: `${issuer.issuer}/api/v2/`, scope: 'update:rules' }, { id: 'demo-admin', secret: 'dev-only-demo-admin-secret' })
  ).json();
  const rule = {
    name: 'tier', trigger: 'credentials-exchange', position: 99, enabled: true,
    assignments: [{ target: 'access_token', claim: 'https://example.com/tier', value: 'gold' }],
  };
  const res = await issuer.fetch('/api/v2/rules/rul_tier', {
    method: 'PUT',
    headers: { authorization: `Bearer ${admin.access_token}`, 'content-type': 'application/json' },
    body: JSON.stringify(rule),
  });
  assert.equal(res.status, 200, await res.text());
  const token = await (await tokenRequest(issuer, { grant_type: 'client_credentials', audience: API })).json();
  const claims = JSON.parse(Buffer.from(token.access_token.split('.')[1], 'base64url'));
  assert.equal(claims['https://example.com/tier'], 'gold');
});

test('a key published after the isolate kept the set verifies at once; an unknown kid costs one read', async () => {
  const { generateKeyPairSync, createHash } = await import('node:crypto');
  const { SignJWT } = await import('jose');
  const { seal } = await import('../../scripts/seed.mjs');
  const { TEST_KEK } = await import('./harness.mjs');
  const body = await (await passwordRequest(issuer, { scope: 'openid' })).json();
  const userinfo = (token) => issuer.fetch('/userinfo', { headers: { authorization: `Bearer ${token}` } });
  assert.equal((await userinfo(body.access_token)).status, 200); // the isolate keeps the set now

  // Another isolate publishes a key (a previous key here, so it does not sign this isolate's tokens).
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const kid = createHash('sha256').update(JSON.stringify({ crv: 'P-256', kty: 'EC', x: jwk.x, y: jwk.y })).digest('base64url');
  const now = Math.floor(Date.now() / 1000);
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
  await issuer.db
    .prepare("INSERT INTO signing_keys (kid, alg, status, public_jwk, private_key_enc, created_at, current_since, current_until) VALUES (?1, 'ES256', 'previous', ?2, ?3, ?4, ?4, ?4)")
    .bind(kid, JSON.stringify({ ...jwk, kid, alg: 'ES256', use: 'sig' }), seal(TEST_KEK, kid, pkcs8), now)
    .run();
  const claims = JSON.parse(Buffer.from(body.access_token.split('.')[1], 'base64url'));
  const signWith = async (headerKid) => lowS(await new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: headerKid })
    .sign(privateKey));

  const fresh = await signWith(kid);
  let status;
  const known = await cost(async () => { status = (await userinfo(fresh)).status; });
  assert.equal(status, 200, 'a token of the new key is accepted');
  assert.deepEqual(known, { d1: 2, kv: 0 }, 'the published keys read again, then the user batch');
  // The set kept now holds the new key: no extra read.
  const again = await cost(async () => { status = (await userinfo(fresh)).status; });
  assert.equal(status, 200);
  assert.deepEqual(again, { d1: 1, kv: 0 });

  const forged = await signWith('no-such-kid');
  const unknown = await cost(async () => { status = (await userinfo(forged)).status; });
  assert.equal(status, 401);
  assert.deepEqual(unknown, { d1: 1, kv: 0 }, 'one read of the published keys, and refused');
});
