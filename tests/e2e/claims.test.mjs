// The claims pipeline end to end on workerd with D1 and KV: the four cases users brought us,
// rules from seed/dev.json, a hook served by a second Worker over a service binding, and the
// management routes. Tokens are verified by `jose` against the published JWKS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createRemoteJWKSet, customFetch, jwtVerify } from 'jose';
import {
  startIssuer, tokenRequest, passwordRequest, refreshRequest, basic, DEV_SEED, ISSUER, APP, USER, M2M, TEST_KEK,
} from './harness.mjs';
import { seedStatements } from '../../scripts/seed.mjs';

const API = 'https://api.example.com';
const NS = 'https://example.com';
const HOOK = {
  hook_id: 'hk_urn', name: 'urn-hook', trigger: 'credentials-exchange', service: 'HOOKS',
  secret: 'dev-only-hook-secret', timeout_ms: 1000, on_failure: 'deny',
};
let issuer;
let jwks;

before(async () => {
  issuer = await startIssuer({
    seed: { ...DEV_SEED, hooks: [HOOK] },
    hookWorker: {
      scriptPath: join(new URL('.', import.meta.url).pathname, 'hook-worker.mjs'),
      bindings: { HOOK_SECRET: HOOK.secret },
    },
  });
  jwks = createRemoteJWKSet(new URL('/.well-known/jwks.json', ISSUER), {
    [customFetch]: (url, init) => issuer.mf.dispatchFetch(url, init),
  });
});
after(async () => {
  await issuer?.mf.dispose();
});

async function ok(p) {
  const res = await p;
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  return body;
}
const verify = async (jwt, audience) => (await jwtVerify(jwt, jwks, { issuer: ISSUER, audience })).payload;

/** Edits D1 and drops what KV caches of it, as the management API does on a write. */
async function edit(sql, ...args) {
  await issuer.db.prepare(sql).bind(...args).run();
  const kv = await issuer.kv();
  for (const key of [`v5:client:${M2M.id}`, `v5:client:${APP.id}`, 'v5:pipeline:credentials-exchange', 'v5:pipeline:post-login']) {
    await kv.delete(key);
  }
}

async function managementToken() {
  const body = await ok(tokenRequest(issuer, { grant_type: 'client_credentials' }, { id: 'demo-admin', secret: 'dev-only-demo-admin-secret' }));
  return body.access_token;
}

test('case 1: app_metadata in the ID token and at /userinfo', async () => {
  const body = await ok(passwordRequest(issuer, { scope: 'openid profile email' }));
  const id = await verify(body.id_token, APP.id);
  assert.deepEqual(id[`${NS}/app_metadata`], { roles: ['editor'], plan: 'pro' });
  const info = await (await issuer.fetch('/userinfo', { headers: { authorization: `Bearer ${body.access_token}` } })).json();
  assert.deepEqual(info[`${NS}/app_metadata`], { roles: ['editor'], plan: 'pro' });
});

test('case 2: roles and permissions in both tokens; a role change shows at the next refresh', async () => {
  const body = await ok(passwordRequest(issuer, { scope: 'openid offline_access read:data write:data', audience: API }));
  assert.equal(body.scope, 'openid offline_access read:data', 'RBAC: editor may not write');
  const at = await verify(body.access_token, API);
  assert.deepEqual(at.permissions, ['read:data']);
  assert.deepEqual(at[`${NS}/roles`], ['editor']);
  assert.deepEqual((await verify(body.id_token, APP.id))[`${NS}/roles`], ['editor']);

  await edit("UPDATE user_roles SET role_id = 'rol_admin' WHERE user_id = ?1 AND role_id = 'rol_editor' AND org_id = ''", USER.id);
  try {
    const refreshed = await ok(refreshRequest(issuer, body.refresh_token));
    const at2 = await verify(refreshed.access_token, API);
    assert.deepEqual(at2[`${NS}/roles`], ['admin']);
    assert.deepEqual(at2.permissions, ['read:data', 'write:data']);
    assert.deepEqual((await verify(refreshed.id_token, APP.id))[`${NS}/roles`], ['admin']);
  } finally {
    await edit("UPDATE user_roles SET role_id = 'rol_editor' WHERE user_id = ?1 AND role_id = 'rol_admin' AND org_id = ''", USER.id);
  }
});

test('case 3: client_metadata.urn by a rule and by a hook over a service binding', async () => {
  const body = await ok(tokenRequest(issuer, { grant_type: 'client_credentials' }));
  const at = await verify(body.access_token, API);
  assert.equal(at[`${NS}/urn`], 'urn:example:tenant:42', 'from the rule');
  assert.equal(at[`${NS}/hook_urn`], 'urn:example:tenant:42', 'from the hook Worker');
  assert.equal(at.sub, M2M.id);
});

test('case 4: a password user with a role and an organization', async () => {
  const body = await ok(passwordRequest(issuer, { audience: API, scope: 'read:data', organization: 'acme' }));
  const at = await verify(body.access_token, API);
  assert.equal(at.org_id, 'org_acme');
  assert.equal(at.org_name, 'acme');
  assert.deepEqual(at[`${NS}/roles`], ['buyer', 'editor']);
  const none = await verify((await ok(passwordRequest(issuer, { audience: API }))).access_token, API);
  assert.equal(none.org_id, undefined);
  assert.deepEqual(none[`${NS}/roles`], ['editor'], 'org roles only inside the org');
});

test('a hook that times out denies the grant, or is skipped when set to skip', async () => {
  await edit(`UPDATE clients SET client_metadata = json_set(client_metadata, '$.hook_mode', 'slow') WHERE client_id = ?1`, M2M.id);
  try {
    const denied = await tokenRequest(issuer, { grant_type: 'client_credentials' });
    const err = await denied.json();
    assert.equal(denied.status, 500, 'a hook outage is the issuer\'s failure');
    assert.equal(err.error, 'server_error');

    await edit("UPDATE hooks SET on_failure = 'skip' WHERE hook_id = 'hk_urn'");
    const skipped = await ok(tokenRequest(issuer, { grant_type: 'client_credentials' }));
    const at = await verify(skipped.access_token, API);
    assert.equal(at[`${NS}/hook_urn`], undefined);
    assert.equal(at[`${NS}/urn`], 'urn:example:tenant:42', 'rules still ran');
  } finally {
    await edit("UPDATE hooks SET on_failure = 'deny' WHERE hook_id = 'hk_urn'");
    await edit(`UPDATE clients SET client_metadata = json_remove(client_metadata, '$.hook_mode') WHERE client_id = ?1`, M2M.id);
  }
});

test('a hook answer that sets sub does not change sub', async () => {
  await edit(`UPDATE clients SET client_metadata = json_set(client_metadata, '$.hook_mode', 'set_sub') WHERE client_id = ?1`, M2M.id);
  try {
    const at = await verify((await ok(tokenRequest(issuer, { grant_type: 'client_credentials' }))).access_token, API);
    assert.equal(at.sub, M2M.id);
    assert.equal(at[`${NS}/hook_urn`], 'urn:example:tenant:42');
  } finally {
    await edit(`UPDATE clients SET client_metadata = json_remove(client_metadata, '$.hook_mode') WHERE client_id = ?1`, M2M.id);
  }
});

test('a rule copying user_metadata into an access token without the flag cannot be saved', async () => {
  const token = await managementToken();
  const put = (rule) =>
    issuer.fetch('/api/v2/rules/rul_theme', {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(rule),
    });
  const rule = {
    name: 'theme', trigger: 'post-login',
    assignments: [{ target: 'access_token', claim: `${NS}/theme`, path: 'user.user_metadata.theme' }],
  };
  const refused = await put(rule);
  assert.equal(refused.status, 400);
  assert.match((await refused.json()).message, /user_metadata is editable by the user/);
  const { results } = await issuer.db.prepare("SELECT count(*) AS n FROM rules WHERE rule_id = 'rul_theme'").all();
  assert.equal(results[0].n, 0);

  const saved = await put({ ...rule, allow_user_controlled: true });
  assert.equal(saved.status, 200);
  await saved.arrayBuffer();
  try {
    const at = await verify((await ok(passwordRequest(issuer, { audience: API }))).access_token, API);
    assert.equal(at[`${NS}/theme`], 'dark', 'in effect at the next request: the KV entry was dropped');
  } finally {
    await edit("DELETE FROM rules WHERE rule_id = 'rul_theme'");
  }
});

test('explain runs the pipeline as a dry run with a trace', async () => {
  const token = await managementToken();
  const res = await issuer.fetch('/api/v2/claims/explain', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: APP.id, user_id: USER.id, audience: API, scope: 'openid read:data', organization: 'acme' }),
  });
  const out = await res.json();
  assert.equal(res.status, 200, JSON.stringify(out));
  assert.equal(out.access_token.org_id, 'org_acme');
  assert.deepEqual(out.access_token[`${NS}/roles`], ['buyer', 'editor']);
  assert.deepEqual(out.id_token[`${NS}/app_metadata`], { roles: ['editor'], plan: 'pro' });
  assert.ok(out.trace.some((t) => t.source === 'rule:roles in access and ID tokens' && t.action === 'set'));
  const noScope = await issuer.fetch('/api/v2/claims/explain', {
    method: 'POST',
    headers: { authorization: `Bearer ${(await ok(tokenRequest(issuer, { grant_type: 'client_credentials' }))).access_token}` },
    body: '{}',
  });
  assert.equal(noScope.status, 401, 'a token for another API');
  await noScope.arrayBuffer();
});

test('a post-login hook timing out at refresh costs nothing: the same token works once it answers', async () => {
  const hook = { ...HOOK, hook_id: 'hk_login', name: 'login-hook', trigger: 'post-login' };
  const first = await ok(passwordRequest(issuer, { scope: 'openid offline_access' }));
  for (const stmt of seedStatements({ hooks: [hook] }, { issuer: ISSUER, kek: TEST_KEK })) await issuer.db.prepare(stmt).run();
  const mode = (m) => edit("UPDATE clients SET client_metadata = json_set(client_metadata, '$.hook_mode', ?1) WHERE client_id = ?2", m, APP.id);
  await mode('slow');
  try {
    // Deny on failure: the refresh fails (server_error: the outage is ours)...
    const refused = await refreshRequest(issuer, first.refresh_token);
    assert.equal(refused.status, 500);
    assert.equal((await refused.json()).error, 'server_error');
    // ...and nothing was consumed: once the hook answers, the same token gets a fresh pair.
    await mode('normal');
    const second = await ok(refreshRequest(issuer, first.refresh_token));
    await ok(refreshRequest(issuer, second.refresh_token));
    const { results } = await issuer.db
      .prepare('SELECT f.revoked_at FROM refresh_families f JOIN refresh_tokens t ON t.family_id = f.family_id WHERE t.token_hash = ?1')
      .bind(Buffer.from(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(first.refresh_token))).toString('base64url'))
      .all();
    assert.equal(results[0].revoked_at, null, 'the family is intact');
  } finally {
    await edit('DELETE FROM hooks WHERE hook_id = ?1', hook.hook_id);
    await edit("UPDATE clients SET client_metadata = json_remove(client_metadata, '$.hook_mode') WHERE client_id = ?1", APP.id);
  }
});

test('a post-login hook over a service binding asks for a second factor: the password grant answers mfa_required', async () => {
  const hook = { ...HOOK, hook_id: 'hk_mfa', name: 'mfa-hook', trigger: 'post-login' };
  for (const stmt of seedStatements({ hooks: [hook] }, { issuer: ISSUER, kek: TEST_KEK })) await issuer.db.prepare(stmt).run();
  const token = await managementToken();
  const otp = (enabled) => issuer.fetch('/api/v2/guardian/factors/otp', {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ enabled }),
  });
  const mode = (m) => edit("UPDATE clients SET client_metadata = json_set(client_metadata, '$.hook_mode', ?1) WHERE client_id = ?2", m, APP.id);
  assert.equal((await otp(true)).status, 200);
  try {
    // The hook's answer only: the policy asks nothing (`[]`) and the user has no app.
    await mode('mfa');
    const asked = await passwordRequest(issuer, { scope: 'openid' });
    const body = await asked.json();
    assert.equal(asked.status, 403, JSON.stringify(body));
    assert.equal(body.error, 'mfa_required');
    assert.ok(body.mfa_token, 'an MFA token for /mfa/associate and the mfa-otp grant');
    // With the factor off, the ask is answered honestly: one factor, tokens as before.
    assert.equal((await otp(false)).status, 200);
    const plain = await ok(passwordRequest(issuer, { scope: 'openid' }));
    assert.deepEqual((await verify(plain.id_token, APP.id)).amr, ['pwd']);
    // And a hook that does not ask leaves the grant alone.
    assert.equal((await otp(true)).status, 200);
    await mode('normal');
    await ok(passwordRequest(issuer, { scope: 'openid' }));
  } finally {
    await otp(false);
    await edit('DELETE FROM hooks WHERE hook_id = ?1', hook.hook_id);
    await edit("UPDATE clients SET client_metadata = json_remove(client_metadata, '$.hook_mode') WHERE client_id = ?1", APP.id);
  }
});
