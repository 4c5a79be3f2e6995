// Connections through the official `auth0` npm SDK's ManagementClient on workerd with D1 and
// KV: it lists, creates, updates and deletes a database connection and its enabled clients,
// and a users-imports job takes a connection id from connections.getAll; a connection that
// turns sign-up off shows at the next login page (the cache follows the write).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ManagementClient } from 'auth0';
import { startIssuer, passwordRequest } from './harness.mjs';
import { MGMT, ADMIN } from './management.mjs';

let issuer;
let management;

before(async () => {
  issuer = await startIssuer();
  management = new ManagementClient({
    domain: new URL(issuer.issuer).host,
    clientId: ADMIN.id,
    clientSecret: ADMIN.secret,
    audience: MGMT,
    fetch: async (url, init) => {
      const target = String(url).replace(/^https:/, 'http:');
      if (!(init?.body instanceof FormData)) return issuer.mf.dispatchFetch(target, init);
      // Encoded as an HTTP client sends it (Miniflare's dispatchFetch drops a FormData body's
      // content type).
      const encoded = new Request(target, { method: init.method, body: init.body });
      const headers = new Headers(init.headers);
      headers.set('content-type', encoded.headers.get('content-type'));
      const body = new Uint8Array(await encoded.arrayBuffer());
      return issuer.mf.dispatchFetch(target, { ...init, headers, body });
    },
  });
});
after(async () => {
  await issuer?.mf.dispose();
});

test('the auth0 SDK lists, creates, updates and deletes connections', async () => {
  const { data: all } = await management.connections.getAll({ strategy: ['auth0'] });
  const seeded = all.find((c) => c.name === 'Username-Password-Authentication');
  assert.ok(seeded, JSON.stringify(all));
  assert.match(seeded.id, /^con_[0-9a-f]{16}$/);
  assert.ok(seeded.enabled_clients.includes('demo-app'));

  const { data: made } = await management.connections.create({
    name: 'partners',
    strategy: 'auth0',
    display_name: 'Partners',
    options: { passwordPolicy: 'fair', disable_signup: true },
    enabled_clients: ['demo-app'],
  });
  assert.equal(made.name, 'partners');
  assert.deepEqual(made.enabled_clients, ['demo-app']);

  const { data: got } = await management.connections.get({ id: made.id });
  assert.deepEqual(got, made);

  const { data: changed } = await management.connections.update(
    { id: made.id },
    { options: { passwordPolicy: 'good' }, display_name: 'Partner firms' },
  );
  assert.deepEqual(changed.options, { passwordPolicy: 'good' });
  assert.equal(changed.display_name, 'Partner firms');

  await management.connections.updateEnabledClients({ id: made.id }, [
    { client_id: 'demo-spa', status: true },
    { client_id: 'demo-app', status: false },
  ]);
  const { data: enabled } = await management.connections.getEnabledClients({ id: made.id });
  assert.deepEqual(enabled.clients, [{ client_id: 'demo-spa' }]);

  await assert.rejects(
    management.connections.create({ name: 'partners', strategy: 'auth0' }),
    (e) => e.statusCode === 409,
  );
  await management.connections.delete({ id: made.id });
  await assert.rejects(management.connections.get({ id: made.id }), (e) => e.statusCode === 404);
});

test('a users-imports job takes the connection id from connections.getAll', async () => {
  const { data: all } = await management.connections.getAll({ name: 'Username-Password-Authentication' });
  const connection_id = all[0].id;
  const users = [{ email: 'imported-by-id@example.com', email_verified: true, user_id: 'by-id' }];
  const { data: job } = await management.jobs.importUsers({
    users: new Blob([JSON.stringify(users)], { type: 'application/json' }),
    connection_id,
    upsert: false,
  });
  assert.equal(job.connection_id, connection_id);
  assert.deepEqual(job.summary, { total: 1, inserted: 1, updated: 0, failed: 0 });
  const { data: user } = await management.users.get({ id: 'auth0|by-id' });
  assert.deepEqual(user.identities, [
    { connection: 'Username-Password-Authentication', provider: 'auth0', user_id: 'by-id', isSocial: false },
  ]);
  await assert.rejects(
    management.jobs.importUsers({
      users: new Blob([JSON.stringify(users)], { type: 'application/json' }),
      connection_id: 'con_0000000000000000',
    }),
    (e) => e.statusCode === 400,
  );
});

test('a connection closed to a client stops its sign-ins at once; opened again, they work', async () => {
  const { data: all } = await management.connections.getAll({ name: 'Username-Password-Authentication' });
  const id = all[0].id;
  const login = () => passwordRequest(issuer, { username: 'demo@example.com', password: 'dev-only-demo-password' });
  assert.equal((await login()).status, 200);
  await management.connections.updateEnabledClients({ id }, [{ client_id: 'demo-app', status: false }]);
  const closed = await login();
  assert.equal(closed.status, 400);
  const refused = await closed.json();
  assert.equal(refused.error, 'invalid_request');
  assert.match(refused.error_description, /not enabled for this client/);
  await management.connections.updateEnabledClients({ id }, [{ client_id: 'demo-app', status: true }]);
  assert.equal((await login()).status, 200);
});
