// The management API's tenant resources on workerd with D1 and KV: roles, organizations,
// clients, client grants, resource servers, rules and hooks. Each: its success path, and a
// 401, a 403 and a validation error; and writes reach the token endpoint through the caches.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIssuer, tokenRequest, USER } from './harness.mjs';
import { adminToken, managementClient, userPath } from './management.mjs';

let issuer;
let admin;

before(async () => {
  issuer = await startIssuer();
  admin = managementClient(issuer, await adminToken(issuer));
});
after(async () => {
  await issuer?.mf.dispose();
});

const RESOURCES = [
  {
    name: 'roles', path: '/api/v2/roles', read: 'read:roles',
    create: { name: 'e2e-role', description: 'x' }, invalid: { name: '' }, id: (b) => b.id, patch: { description: 'y' },
  },
  {
    name: 'organizations', path: '/api/v2/organizations', read: 'read:organizations',
    create: { name: 'e2e-org', display_name: 'E2E' }, invalid: { name: 'Not Valid' }, id: (b) => b.id, patch: { display_name: 'E2E Org' },
  },
  {
    name: 'clients', path: '/api/v2/clients', read: 'read:clients',
    create: { name: 'e2e client', grant_types: ['client_credentials'] }, invalid: { name: 'x', callbacks: ['javascript:alert(1)'] }, id: (b) => b.client_id, patch: { name: 'renamed' },
  },
  {
    name: 'resource servers', path: '/api/v2/resource-servers', read: 'read:resource_servers',
    create: { identifier: 'https://e2e.example', scopes: [{ value: 'read:e2e' }] }, invalid: { identifier: 'https://e2e.example', signing_alg: 'none' }, id: (b) => b.id, patch: { token_lifetime: 900 },
  },
  {
    name: 'rules', path: '/api/v2/rules', read: 'read:rules',
    create: { name: 'e2e', trigger: 'post-login', assignments: [{ target: 'id_token', claim: 'https://x/e2e', value: 1 }] },
    invalid: { name: 'e2e', trigger: 'post-login', assignments: [{ target: 'id_token', claim: 'nonce', value: 1 }] }, id: (b) => b.id, patch: { enabled: false },
  },
  {
    name: 'hooks', path: '/api/v2/hooks', read: 'read:hooks',
    create: { name: 'e2e', trigger: 'post-login', service: 'HOOKS', enabled: false }, invalid: { name: 'e2e', trigger: 'post-login', url: 'http://insecure.example' }, id: (b) => b.id, patch: { position: 3 },
  },
];

for (const r of RESOURCES) {
  test(`${r.name}: made, read, changed, deleted; 401, 403 and 400 refused`, async () => {
    const created = await admin('POST', r.path, r.create);
    assert.ok([200, 201].includes(created.status), JSON.stringify(created.body));
    const id = encodeURIComponent(r.id(created.body));
    const listed = await admin('GET', r.path);
    assert.equal(listed.status, 200);
    assert.ok(listed.body.some((x) => r.id(x) === r.id(created.body)), 'listed');
    assert.equal((await admin('GET', `${r.path}/${id}`)).status, 200);
    const patched = await admin('PATCH', `${r.path}/${id}`, r.patch);
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    for (const [k, v] of Object.entries(r.patch)) assert.deepEqual(patched.body[k], v, k);

    const anonymous = await managementClient(issuer)('POST', r.path, r.create);
    assert.equal(anonymous.status, 401);
    const reader = managementClient(issuer, await adminToken(issuer, r.read));
    const denied = await reader('POST', r.path, r.create);
    assert.equal(denied.status, 403);
    assert.equal(denied.body.errorCode, 'insufficient_scope');
    const invalid = await admin('POST', r.path, r.invalid);
    assert.equal(invalid.status, 400, JSON.stringify(invalid.body));
    assert.equal(invalid.body.statusCode, 400);

    assert.equal((await admin('DELETE', `${r.path}/${id}`)).status, 204);
    assert.equal((await admin('GET', `${r.path}/${id}`)).status, 404);
  });
}

test('client grants: made, changed, deleted; 401, 403 and 400 refused', async () => {
  const client = (await admin('POST', '/api/v2/clients', { name: 'grantee', grant_types: ['client_credentials'] })).body;
  const grant = { client_id: client.client_id, audience: 'https://api.example.com', scope: ['read:data'] };
  const created = await admin('POST', '/api/v2/client-grants', grant);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.equal((await admin('POST', '/api/v2/client-grants', grant)).status, 409);
  const patched = await admin('PATCH', `/api/v2/client-grants/${created.body.id}`, { scope: ['read:data', 'write:data'] });
  assert.deepEqual(patched.body.scope, ['read:data', 'write:data']);
  assert.equal((await managementClient(issuer)('GET', '/api/v2/client-grants')).status, 401);
  const reader = managementClient(issuer, await adminToken(issuer, 'read:client_grants'));
  assert.equal((await reader('POST', '/api/v2/client-grants', grant)).status, 403);
  assert.equal((await admin('POST', '/api/v2/client-grants', { ...grant, scope: ['fly'] })).status, 400);
  assert.equal((await admin('DELETE', `/api/v2/client-grants/${created.body.id}`)).status, 204);
  assert.deepEqual((await admin('GET', `/api/v2/client-grants?client_id=${client.client_id}`)).body, []);
});

test('a rotated secret stops working at once, though the client was cached', async () => {
  const client = (await admin('POST', '/api/v2/clients', { name: 'cached', grant_types: ['client_credentials'] })).body;
  await admin('POST', '/api/v2/client-grants', { client_id: client.client_id, audience: 'https://api.example.com', scope: ['read:data'] });
  const cc = (secret) => tokenRequest(issuer, { grant_type: 'client_credentials', audience: 'https://api.example.com' }, { id: client.client_id, secret });
  assert.equal((await cc(client.client_secret)).status, 200);
  const kv = await issuer.kv();
  assert.ok(await kv.get(`v5:client:${client.client_id}`), 'the client is in KV');
  const rotated = (await admin('POST', `/api/v2/clients/${client.client_id}/rotate-secret`)).body;
  assert.equal((await cc(client.client_secret)).status, 401);
  assert.equal((await cc(rotated.client_secret)).status, 200);
});

test('roles and organizations made through the API show in the next token', async () => {
  const { passwordRequest } = await import('./harness.mjs');
  const claimsOf = async (form) => {
    const res = await passwordRequest(issuer, { audience: 'https://api.example.com', scope: 'openid write:data', ...form });
    const body = await res.json();
    assert.equal(res.status, 200, JSON.stringify(body));
    return JSON.parse(Buffer.from(body.access_token.split('.')[1], 'base64url').toString());
  };
  assert.ok(!(await claimsOf({})).permissions.includes('write:data'), 'not held before');
  const role = (await admin('POST', '/api/v2/roles', { name: 'writer' })).body;
  const perms = await admin('POST', `/api/v2/roles/${role.id}/permissions`, { permissions: [{ permission_name: 'write:data', resource_server_identifier: 'https://api.example.com' }] });
  assert.equal(perms.status, 201, JSON.stringify(perms.body));
  assert.equal((await admin('POST', `${userPath(USER.id)}/roles`, { roles: [role.id] })).status, 204);
  const held = await admin('GET', `${userPath(USER.id)}/permissions`);
  assert.ok(held.body.some((p) => p.permission_name === 'write:data'));
  const org = (await admin('POST', '/api/v2/organizations', { name: 'tokens-org' })).body;
  assert.equal((await admin('POST', `/api/v2/organizations/${org.id}/members`, { members: [USER.id] })).status, 204);
  const orgs = await admin('GET', `${userPath(USER.id)}/organizations`);
  assert.ok(orgs.body.some((o) => o.id === org.id));
  const memberRoles = `/api/v2/organizations/${org.id}/members/${encodeURIComponent(USER.id)}/roles`;
  assert.equal((await admin('POST', memberRoles, { roles: [role.id] })).status, 204);
  assert.deepEqual((await admin('GET', memberRoles)).body.map((r) => r.id), [role.id]);
  const sessions = await admin('GET', `${userPath(USER.id)}/sessions`);
  assert.equal(sessions.status, 200);
  assert.ok(Array.isArray(sessions.body));
  // The next token: within the organization, the role's permission (the API has RBAC on and
  // lists permissions in its tokens).
  const claims = await claimsOf({ organization: 'tokens-org' });
  assert.equal(claims.org_id, org.id);
  assert.ok(claims.permissions.includes('write:data'), JSON.stringify(claims));
  assert.ok(claims.scope.split(' ').includes('write:data'), claims.scope);
});

test('logins and management writes are logged in D1 after the response, without secrets', async () => {
  const { passwordRequest, USER: user } = await import('./harness.mjs');
  assert.equal((await passwordRequest(issuer, {}, { ip: '192.0.2.77' })).status, 200);
  assert.equal((await passwordRequest(issuer, { password: 'not-the-password' }, { ip: '192.0.2.77' })).status, 400);
  assert.equal((await admin('POST', '/api/v2/roles', { name: 'logged-role' })).status, 200);
  // The events are stored through waitUntil: poll briefly.
  let logs = [];
  for (let i = 0; i < 50 && logs.length < 3; i++) {
    const res = await admin('GET', `/api/v2/logs?per_page=100&q=${encodeURIComponent(`user_id:"${user.id}"`)}`);
    logs = res.body.filter((e) => ['s', 'fp'].includes(e.type));
    const writes = (await admin('GET', '/api/v2/logs?q=type:sapi')).body;
    if (logs.length >= 1 && writes.some((e) => e.description === 'POST /api/v2/roles')) {
      const fp = (await admin('GET', '/api/v2/logs?q=type:fp')).body;
      if (fp.length) {
        assert.equal(fp[0].user_name, user.email);
        assert.equal(fp[0].ip, '192.0.2.77');
        const all = JSON.stringify((await admin('GET', '/api/v2/logs?per_page=100')).body);
        for (const secret of [user.password, 'not-the-password', 'dev-only-demo-admin-secret', 'dev-only-demo-app-secret']) {
          assert.ok(!all.includes(secret), `a log holds ${secret}`);
        }
        const login = logs.find((e) => e.type === 's');
        assert.equal(login.client_id, 'demo-app');
        assert.match(login.date, /Z$/);
        return;
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  assert.fail(`the events did not arrive: ${JSON.stringify(logs)}`);
});

test('the link routes: role holders and permissions, member roles, sessions, each undone', async () => {
  const role = (await admin('POST', '/api/v2/roles', { name: 'linker' })).body;
  const perm = { permissions: [{ permission_name: 'read:data', resource_server_identifier: 'https://api.example.com' }] };
  assert.equal((await admin('POST', `/api/v2/roles/${role.id}/permissions`, perm)).status, 201);
  assert.deepEqual((await admin('GET', `/api/v2/roles/${role.id}/permissions`)).body.map((p) => p.permission_name), ['read:data']);
  assert.equal((await admin('DELETE', `/api/v2/roles/${role.id}/permissions`, perm)).status, 204);
  assert.deepEqual((await admin('GET', `/api/v2/roles/${role.id}/permissions`)).body, []);

  assert.equal((await admin('POST', `/api/v2/roles/${role.id}/users`, { users: [USER.id] })).status, 200);
  assert.deepEqual((await admin('GET', `/api/v2/roles/${role.id}/users`)).body.map((u) => u.user_id), [USER.id]);
  assert.equal((await admin('DELETE', `${userPath(USER.id)}/roles`, { roles: [role.id] })).status, 204);
  assert.deepEqual((await admin('GET', `/api/v2/roles/${role.id}/users`)).body, []);

  const org = (await admin('POST', '/api/v2/organizations', { name: 'linked-org' })).body;
  assert.equal((await admin('GET', '/api/v2/organizations/name/linked-org')).body.id, org.id);
  await admin('POST', `/api/v2/organizations/${org.id}/members`, { members: [USER.id] });
  const memberRoles = `/api/v2/organizations/${org.id}/members/${encodeURIComponent(USER.id)}/roles`;
  await admin('POST', memberRoles, { roles: [role.id] });
  assert.equal((await admin('DELETE', memberRoles, { roles: [role.id] })).status, 204);
  assert.deepEqual((await admin('GET', memberRoles)).body, []);
  assert.equal((await admin('DELETE', `/api/v2/organizations/${org.id}/members`, { members: [USER.id] })).status, 204);
  assert.deepEqual((await admin('GET', `/api/v2/organizations/${org.id}/members`)).body, []);

  assert.equal((await admin('DELETE', `${userPath(USER.id)}/sessions`)).status, 204);
  assert.equal((await admin('GET', '/api/v2/users/auth0%7Cnobody/roles')).status, 404);
});
