// Signing-key rotation on workerd with D1: a `jose` verifier that caches the JWKS (and may
// not fetch it again) keeps verifying across a rotation, the promoted key being the one it
// saw as `next`; the Cron Trigger, run through Miniflare's scheduled handler, rotates keys
// that are due and drops those whose tokens have all expired; a revoked key leaves the JWKS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRemoteJWKSet, customFetch, jwtVerify, decodeProtectedHeader } from 'jose';
import { startIssuer, tokenRequest, ISSUER } from './harness.mjs';
import { adminToken, managementClient } from './management.mjs';

const API = 'https://api.example.com';
const LEAD_SECONDS = 3;
let issuer;

before(async () => {
  // A short publication lead so the test need not wait the production 15 minutes.
  issuer = await startIssuer({ bindings: { SIGNING_KEY_LEAD_SECONDS: String(LEAD_SECONDS) } });
});
after(async () => {
  await issuer?.mf.dispose();
});

async function accessToken() {
  const body = await (await tokenRequest(issuer, { grant_type: 'client_credentials', audience: API })).json();
  assert.ok(body.access_token, JSON.stringify(body));
  return body.access_token;
}

async function keyRows() {
  const { results } = await issuer.db.prepare(
    "SELECT kid, alg, status, created_at, current_since, current_until FROM signing_keys WHERE alg IN ('ES256', 'RS256') ORDER BY created_at",
  ).all();
  return results;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test('a verifier that cached the JWKS before a rotation verifies tokens from both sides of it', async () => {
  let fetches = 0;
  const jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', ISSUER), {
    [customFetch]: (url, init) => { fetches += 1; return issuer.mf.dispatchFetch(url, init); },
    // It keeps its copy and never fetches again within the test, not even for an unknown kid.
    cacheMaxAge: 600_000,
    cooldownDuration: 600_000,
  });
  const before = await accessToken();
  await jwtVerify(before, jwks, { issuer: ISSUER, audience: API });
  assert.equal(fetches, 1);
  const seen = (await (await issuer.fetch('/.well-known/jwks.json')).json()).keys;
  const signer = decodeProtectedHeader(before).kid;
  const next = seen.find((k) => k.alg === 'ES256' && k.kid !== signer);
  assert.ok(next, 'the JWKS shows the next ES256 key');

  const admin = managementClient(issuer, await adminToken(issuer));
  const rotated = await admin('POST', '/api/v2/keys/signing/rotate');
  assert.equal(rotated.status, 201, JSON.stringify(rotated.body));
  assert.equal(rotated.body.kid, next.kid, 'the key promoted is the one published as next');
  assert.equal(rotated.body.current, true);

  // Until the promoted key has been published for the lead, the old key signs.
  // (On a slow machine the next key may already have been published for the lead by now.)
  const { results: [promoted] } = await issuer.db.prepare('SELECT created_at FROM signing_keys WHERE kid = ?1').bind(next.kid).all();
  const nowSeconds = () => Math.floor(Date.now() / 1000);
  const eligibleBefore = promoted.created_at + LEAD_SECONDS <= nowSeconds();
  const during = await accessToken();
  const eligibleAfter = promoted.created_at + LEAD_SECONDS <= nowSeconds();
  const expected = eligibleBefore ? [next.kid] : eligibleAfter ? [signer, next.kid] : [signer];
  assert.ok(expected.includes(decodeProtectedHeader(during).kid), JSON.stringify({ expected, during: decodeProtectedHeader(during).kid, signer, next: next.kid, eligibleBefore, eligibleAfter, rows: await keyRows(), now: nowSeconds() }));
  await sleep(LEAD_SECONDS * 1000 + 1100);
  const after = await accessToken();
  assert.equal(decodeProtectedHeader(after).kid, next.kid, 'the promoted key signs');

  for (const jwt of [before, during, after]) {
    const { payload } = await jwtVerify(jwt, jwks, { audience: API });
    assert.equal(payload.aud, API);
  }
  assert.equal(fetches, 1, 'all verified from the copy fetched before the rotation');

  const listed = await admin('GET', '/api/v2/keys/signing');
  const states = Object.fromEntries(listed.body.map((k) => [k.kid, k]));
  assert.equal(states[signer].previous, true);
  assert.ok(states[signer].current_until);
  assert.equal(states[next.kid].current, true);
});

test('the cron trigger rotates keys due, drops expired previous keys, and revocation empties the JWKS of a key', async () => {
  await issuer.fetch('/.well-known/jwks.json');
  // Age every key by 31 days, and one previous key past every token's lifetime.
  const day = 86_400;
  await issuer.db.prepare(
    `UPDATE signing_keys SET created_at = created_at - ${31 * day}, current_since = current_since - ${31 * day},
       current_until = current_until - ${31 * day}`,
  ).run();
  const old = (await keyRows()).find((k) => k.status === 'previous');
  await issuer.db.prepare(`UPDATE signing_keys SET current_until = current_until - ${62 * day} WHERE kid = ?1`).bind(old.kid).run();
  const beforeRows = await keyRows();
  const current = beforeRows.filter((k) => k.status === 'current').map((k) => k.kid);
  const next = beforeRows.filter((k) => k.status === 'next').map((k) => k.kid);
  assert.equal(current.length, 2);
  assert.equal(next.length, 2);

  const worker = await issuer.mf.getWorker();
  await worker.scheduled({ cron: '17 3 * * *', scheduledTime: new Date() });

  const rows = await keyRows();
  const state = (kid) => rows.find((k) => k.kid === kid)?.status;
  for (const kid of current) assert.equal(state(kid), 'previous', 'the current keys stepped down');
  for (const kid of next) assert.equal(state(kid), 'current', 'the next keys signs now');
  assert.equal(rows.filter((k) => k.status === 'next').length, 2, 'new next keys');
  assert.equal(state(old.kid), undefined, 'the expired previous key was dropped');

  // A previous key revoked leaves the JWKS at once.
  const admin = managementClient(issuer, await adminToken(issuer));
  const revoked = await admin('PUT', `/api/v2/keys/signing/${encodeURIComponent(current[0])}/revoke`);
  assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
  const published = (await (await issuer.fetch('/.well-known/jwks.json')).json()).keys.map((k) => k.kid);
  assert.ok(!published.includes(current[0]));
  assert.ok(published.includes(current[1]));
  const refused = await admin('PUT', `/api/v2/keys/signing/${encodeURIComponent(next[0])}/revoke`);
  assert.equal(refused.status, 409, 'the current key cannot be revoked');
});

test('rotations in the second the first key was made leave the first key signing until the lead has passed (D1)', async () => {
  // A fresh issuer with the production lead: its first key signs at once; three rotations
  // right after must not let a key made milliseconds ago sign.
  const fresh = await startIssuer();
  try {
    const token = async () => {
      const body = await (await tokenRequest(fresh, { grant_type: 'client_credentials', audience: API })).json();
      return decodeProtectedHeader(body.access_token).kid;
    };
    const first = await token();
    const admin = managementClient(fresh, await adminToken(fresh));
    for (let i = 0; i < 3; i++) {
      const rotated = await admin('POST', '/api/v2/keys/signing/rotate');
      assert.equal(rotated.status, 201, JSON.stringify(rotated.body));
    }
    assert.equal(await token(), first, 'the first-promoted key still signs');
    const { results } = await fresh.db.prepare("SELECT kid, promotion FROM signing_keys WHERE alg = 'ES256' AND promotion IS NOT NULL ORDER BY promotion").all();
    assert.deepEqual(results.map((r) => r.promotion), [1, 2, 3, 4]);
    assert.equal(results[0].kid, first);
  } finally {
    await fresh.mf.dispose();
  }
});
