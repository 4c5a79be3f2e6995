// The management API's explain and the token endpoint agree: for every case the seed
// supports, the scope and the claims explain predicts are those of the tokens the token
// endpoint issues (apart from times and ids), or both refuse with the same reason. Each case
// names the answer it expects, so a case that starts failing (or succeeding) is noticed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRemoteJWKSet, customFetch, jwtVerify } from 'jose';
import { startIssuer, tokenRequest, passwordRequest, ISSUER, APP, USER, M2M } from './harness.mjs';

const API = 'https://api.example.com';
const MGMT = `${ISSUER}/api/v2/`;
const ADMIN = { id: 'demo-admin', secret: 'dev-only-demo-admin-secret' };
const VOLATILE = ['iat', 'nbf', 'exp', 'jti', 'auth_time', 'at_hash'];
let issuer;
let jwks;
let adminToken;

before(async () => {
  issuer = await startIssuer();
  jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', ISSUER), {
    [customFetch]: (url, init) => issuer.mf.dispatchFetch(url, init),
  });
  adminToken = (await (await tokenRequest(issuer, { grant_type: 'client_credentials' }, ADMIN)).json()).access_token;
});
after(async () => {
  await issuer?.mf.dispose();
});

const stable = (claims) => Object.fromEntries(Object.entries(claims ?? {}).filter(([k]) => !VOLATILE.includes(k)));

async function explain(body) {
  const res = await issuer.fetch('/api/v2/claims/explain', {
    method: 'POST',
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: await res.json() };
}

const CASES = [
  { name: 'machine client, default audience', status: 200, token: () => tokenRequest(issuer, { grant_type: 'client_credentials' }), explain: { client_id: M2M.id } },
  { name: 'machine client, a scope beyond its grant', status: 400, error: 'invalid_scope', token: () => tokenRequest(issuer, { grant_type: 'client_credentials', scope: 'read:data write:data' }), explain: { client_id: M2M.id, scope: 'read:data write:data' } },
  { name: 'management client', status: 200, token: () => tokenRequest(issuer, { grant_type: 'client_credentials' }, ADMIN), explain: { client_id: ADMIN.id } },
  { name: 'machine client, an API it has no grant on', status: 400, error: 'unauthorized_client', token: () => tokenRequest(issuer, { grant_type: 'client_credentials', audience: MGMT }), explain: { client_id: M2M.id, audience: MGMT } },
  { name: 'user, API scopes under RBAC', status: 200, token: () => passwordRequest(issuer, { scope: 'openid profile email offline_access read:data write:data', audience: API }), explain: { client_id: APP.id, user_id: USER.id, scope: 'openid profile email offline_access read:data write:data', audience: API } },
  { name: 'user in an organization', status: 200, token: () => passwordRequest(issuer, { scope: 'openid read:data', organization: 'acme' }), explain: { client_id: APP.id, user_id: USER.id, scope: 'openid read:data', organization: 'acme' } },
  { name: 'user asking for management scopes', status: 200, token: () => passwordRequest(issuer, { scope: 'openid read:claims update:rules read:current_user', audience: MGMT }), explain: { client_id: APP.id, user_id: USER.id, scope: 'openid read:claims update:rules read:current_user', audience: MGMT } },
  { name: 'user, an unknown organization', status: 400, error: 'invalid_request', token: () => passwordRequest(issuer, { scope: 'openid', organization: 'nope' }), explain: { client_id: APP.id, user_id: USER.id, scope: 'openid', organization: 'nope' } },
];

test('explain and the token endpoint agree on scope and claims for every seed case', async () => {
  for (const c of CASES) {
    const res = await c.token();
    const issued = await res.json();
    const predicted = await explain(c.explain);
    assert.equal(res.status, c.status, `${c.name}: ${JSON.stringify(issued)}`);
    assert.equal(issued.error, c.error, c.name);
    if (c.status !== 200) {
      assert.equal(predicted.status, 400, `${c.name}: explain should refuse too: ${JSON.stringify(predicted.body)}`);
      assert.equal(predicted.body.message, issued.error_description, c.name);
      continue;
    }
    assert.equal(predicted.status, 200, `${c.name}: ${JSON.stringify(predicted.body)}`);
    assert.equal(predicted.body.scope, issued.scope, c.name);
    const at = (await jwtVerify(issued.access_token, jwks, { issuer: ISSUER })).payload;
    assert.deepEqual(stable(predicted.body.access_token), stable(at), `${c.name}: access token`);
    if (issued.id_token) {
      const id = (await jwtVerify(issued.id_token, jwks, { issuer: ISSUER })).payload;
      assert.deepEqual(stable(predicted.body.id_token), stable(id), `${c.name}: ID token`);
    } else {
      assert.equal(predicted.body.id_token, null, `${c.name}: no ID token`);
    }
  }
});
