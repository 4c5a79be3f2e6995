// The official `auth0` npm SDK's ManagementClient, pointed at this issuer with nothing changed
// but the domain (and a fetch that reaches the local Worker): it gets its own token with
// client credentials, then creates a user, updates metadata, reads the user, assigns a role,
// creates an organization and adds the user, and rotates a client secret.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ManagementClient } from 'auth0';
import { startIssuer, tokenRequest } from './harness.mjs';
import { MGMT, ADMIN } from './management.mjs';

let issuer;
let management;

before(async () => {
  issuer = await startIssuer();
  const domain = new URL(issuer.issuer).host;
  management = new ManagementClient({
    domain,
    clientId: ADMIN.id,
    clientSecret: ADMIN.secret,
    // The SDK builds https://<domain>/…; the test issuer is plain http on the same host.
    audience: MGMT,
    fetch: (url, init) => issuer.mf.dispatchFetch(String(url).replace(/^https:/, 'http:'), init),
  });
});
after(async () => {
  await issuer?.mf.dispose();
});

test('the auth0 SDK manages users, roles, organizations and client secrets', async () => {
  const { data: user } = await management.users.create({
    connection: 'Username-Password-Authentication',
    email: 'sdk@example.com',
    password: 'an SDK-made password',
    user_metadata: { theme: 'dark', lang: 'en' },
  });
  assert.match(user.user_id, /^auth0\|/);

  const { data: updated } = await management.users.update({ id: user.user_id }, { user_metadata: { lang: null, tz: 'UTC' } });
  assert.deepEqual(updated.user_metadata, { theme: 'dark', tz: 'UTC' });

  const { data: got } = await management.users.get({ id: user.user_id });
  assert.equal(got.email, 'sdk@example.com');
  assert.deepEqual(got.user_metadata, { theme: 'dark', tz: 'UTC' });

  const { data: role } = await management.roles.create({ name: 'sdk-role', description: 'Made by the SDK' });
  await management.users.assignRoles({ id: user.user_id }, { roles: [role.id] });
  const { data: roles } = await management.users.getRoles({ id: user.user_id });
  assert.deepEqual(roles.map((r) => r.name), ['sdk-role']);

  const { data: org } = await management.organizations.create({ name: 'sdk-org', display_name: 'SDK Org' });
  await management.organizations.addMembers({ id: org.id }, { members: [user.user_id] });
  const { data: members } = await management.organizations.getMembers({ id: org.id });
  assert.deepEqual(members.map((m) => m.user_id), [user.user_id]);

  const { data: client } = await management.clients.create({ name: 'SDK machine', app_type: 'non_interactive', grant_types: ['client_credentials'] });
  const { data: rotated } = await management.clients.rotateClientSecret({ client_id: client.client_id });
  assert.notEqual(rotated.client_secret, client.client_secret);
  await management.clientGrants.create({ client_id: client.client_id, audience: 'https://api.example.com', scope: ['read:data'] });
  const old = await tokenRequest(issuer, { grant_type: 'client_credentials', audience: 'https://api.example.com' }, { id: client.client_id, secret: client.client_secret });
  assert.equal(old.status, 401, 'the old secret stopped working');
  const fresh = await tokenRequest(issuer, { grant_type: 'client_credentials', audience: 'https://api.example.com' }, { id: client.client_id, secret: rotated.client_secret });
  assert.equal(fresh.status, 200);

  // Errors reach the SDK in Auth0's shape.
  await assert.rejects(management.users.get({ id: 'auth0|nobody' }), (e) => e.statusCode === 404 && e.errorCode === 'inexistent_entity');
  await assert.rejects(management.users.create({ connection: 'Username-Password-Authentication', email: 'nope' }), (e) => e.statusCode === 400);
});

test('checkpoint paging (from, take, next) walks organization members and organizations through the SDK', async () => {
  const { data: org } = await management.organizations.create({ name: 'paged-org', display_name: 'Paged' });
  const ids = [];
  for (let i = 0; i < 5; i++) {
    const { data: u } = await management.users.create({
      connection: 'Username-Password-Authentication',
      email: `paged${i}@example.com`,
      password: 'a paged user password',
    });
    ids.push(u.user_id);
  }
  await management.organizations.addMembers({ id: org.id }, { members: ids });
  const walked = [];
  let from;
  for (let round = 0; round < 10; round++) {
    const { data } = await management.organizations.getMembers({ id: org.id, take: 2, ...(from ? { from } : {}) });
    walked.push(...data.members.map((m) => m.user_id));
    if (!data.next) break;
    from = data.next;
  }
  assert.deepEqual(walked, ids, 'every member once, in order');
  const { data: orgs } = await management.organizations.getAll({ take: 1 });
  assert.equal(orgs.organizations.length, 1);
  assert.ok(orgs.next, 'a checkpoint while organizations remain');
});
