// The management API's users routes on workerd with D1: an admin script's CRUD and search,
// refusals, paging under inserts, a bcrypt import signing in, and an SPA's self-service.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import bcrypt from 'bcryptjs';
import { startIssuer, passwordRequest, USER } from './harness.mjs';
import { adminToken, userToken, managementClient, userPath } from './management.mjs';

let issuer;
let admin;

before(async () => {
  issuer = await startIssuer();
  admin = managementClient(issuer, await adminToken(issuer));
});
after(async () => {
  await issuer?.mf.dispose();
});

const CONNECTION = 'Username-Password-Authentication';

test('an admin creates, finds, changes and deletes a user', async () => {
  const created = await admin('POST', '/api/v2/users', {
    connection: CONNECTION, email: 'grace@example.com', password: 'a long enough password',
    user_metadata: { lang: 'en', address: { home: 'A', work: 'B' } }, app_metadata: { plan: 'gold', seats: 3 },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = created.body.user_id;
  assert.match(id, /^auth0\|[0-9a-f]{24}$/);
  assert.equal(created.body.password_hash, undefined);
  assert.match(created.body.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);

  const got = await admin('GET', userPath(id));
  assert.equal(got.status, 200);
  assert.deepEqual(got.body.app_metadata, { plan: 'gold', seats: 3 });

  for (const q of ['app_metadata.plan:"gold"', 'app_metadata.seats:3', 'email:"GRACE@example.com"']) {
    const found = await admin('GET', `/api/v2/users?include_totals=true&q=${encodeURIComponent(q)}`);
    assert.equal(found.status, 200, q);
    assert.deepEqual(found.body.users.map((u) => u.user_id), [id], q);
    assert.equal(found.body.total, 1, q);
  }
  const byEmail = await admin('GET', '/api/v2/users-by-email?email=grace%40example.com');
  assert.deepEqual(byEmail.body.map((u) => u.user_id), [id]);

  // Auth0's merge: top-level properties replace, null removes, the rest stays.
  const patched = await admin('PATCH', userPath(id), { user_metadata: { address: { home: 'C' }, lang: null, tz: 'UTC' }, app_metadata: { seats: null } });
  assert.equal(patched.status, 200, JSON.stringify(patched.body));
  assert.deepEqual(patched.body.user_metadata, { address: { home: 'C' }, tz: 'UTC' });
  assert.deepEqual(patched.body.app_metadata, { plan: 'gold' });

  assert.equal((await admin('DELETE', userPath(id))).status, 204);
  const gone = await admin('GET', userPath(id));
  assert.equal(gone.status, 404);
  assert.equal(gone.body.statusCode, 404);
});

test('no token is 401, a missing scope 403, bad input 400, and nothing is stored', async () => {
  const anonymous = managementClient(issuer, undefined);
  const none = await anonymous('GET', '/api/v2/users');
  assert.equal(none.status, 401);
  assert.equal(none.headers.get('www-authenticate'), `Bearer realm="${issuer.issuer}"`);
  const reader = managementClient(issuer, await adminToken(issuer, 'read:users'));
  const denied = await reader('POST', '/api/v2/users', { connection: CONNECTION, email: 'x@example.com', password: 'a long enough password' });
  assert.equal(denied.status, 403);
  assert.match(denied.body.message, /create:users/);
  for (const body of [
    { connection: CONNECTION, email: 'not-an-email', password: 'a long enough password' },
    { connection: CONNECTION, email: 'x@example.com', password: 'a long enough password', admin: true },
    { connection: CONNECTION, email: 'x@example.com', password: 'a long enough password', picture: 'ftp://x' },
  ]) {
    const bad = await admin('POST', '/api/v2/users', body);
    assert.equal(bad.status, 400, JSON.stringify(body));
    assert.equal(bad.body.errorCode, 'invalid_body');
  }
  const taken = await admin('POST', '/api/v2/users', { connection: CONNECTION, email: USER.email.toUpperCase(), password: 'a long enough password' });
  assert.equal(taken.status, 409);
  const found = await admin('GET', '/api/v2/users-by-email?email=x%40example.com');
  assert.deepEqual(found.body, []);
  const wrong = await admin('PUT', '/api/v2/users');
  assert.equal(wrong.status, 405);
  assert.equal(wrong.headers.get('allow'), 'GET, POST');
  assert.equal((await admin('GET', '/api/v2/no-such-thing')).status, 404);
});

test('pages stay stable while users are added', async () => {
  const tag = `page-${Date.now()}`;
  for (let i = 0; i < 5; i++) {
    const r = await admin('POST', '/api/v2/users', { connection: CONNECTION, email: `${tag}-${i}@example.com`, password: 'a long enough password', app_metadata: { tag } });
    assert.equal(r.status, 201);
  }
  const page = async (n) => (await admin('GET', `/api/v2/users?per_page=2&page=${n}&fields=email&q=${encodeURIComponent(`app_metadata.tag:"${tag}"`)}`)).body.map((u) => u.email);
  assert.deepEqual(await page(0), [`${tag}-0@example.com`, `${tag}-1@example.com`]);
  await admin('POST', '/api/v2/users', { connection: CONNECTION, email: `${tag}-late@example.com`, password: 'a long enough password', app_metadata: { tag } });
  assert.deepEqual(await page(1), [`${tag}-2@example.com`, `${tag}-3@example.com`]);
  assert.deepEqual(await page(2), [`${tag}-4@example.com`, `${tag}-late@example.com`]);
});

test('users imported with bcrypt hashes sign in with their old passwords', async () => {
  const hash = bcrypt.hashSync('their old password', 8);
  const r = await admin('POST', '/api/v2/users', {
    connection: CONNECTION, email: 'legacy@example.com', user_id: 'legacy-1', email_verified: true,
    custom_password_hash: { algorithm: 'bcrypt', hash: { value: hash, encoding: 'utf8' } },
  });
  assert.equal(r.status, 201, JSON.stringify(r.body));
  const login = (password) => passwordRequest(issuer, { username: 'legacy@example.com', password }, { ip: '198.51.100.9' });
  assert.equal((await login('not it')).status, 400);
  const ok = await login('their old password');
  assert.equal(ok.status, 200);
  const { results } = await issuer.db.prepare("SELECT password_hash FROM users WHERE user_id = 'auth0|legacy-1'").all();
  assert.match(results[0].password_hash, /^\$pbkdf2-sha256\$/, 'upgraded at the first login');
  assert.equal((await login('their old password')).status, 200);
});

test('a user reads and edits their own user_metadata, and nothing else', async () => {
  const me = managementClient(issuer, await userToken(issuer));
  const readOnly = managementClient(issuer, await userToken(issuer, 'read:current_user'));
  const own = await me('GET', userPath(USER.id));
  assert.equal(own.status, 200);
  assert.equal(own.body.email, USER.email);
  const edited = await me('PATCH', userPath(USER.id), { user_metadata: { theme: 'light' } });
  assert.equal(edited.status, 200, JSON.stringify(edited.body));
  assert.equal(edited.body.user_metadata.theme, 'light');
  const before = (await admin('GET', userPath(USER.id))).body;

  const refusals = [
    ['another user', me, 'GET', userPath('auth0|someone-else')],
    ['app_metadata', me, 'PATCH', userPath(USER.id), { app_metadata: { plan: 'free' } }],
    ['another field', me, 'PATCH', userPath(USER.id), { email: 'me@evil.example' }],
    ['no scope', readOnly, 'PATCH', userPath(USER.id), { user_metadata: { theme: 'x' } }],
    ['the tenant', me, 'GET', '/api/v2/users'],
  ];
  for (const [what, client, method, path, body] of refusals) {
    const r = await client(method, path, body);
    assert.equal(r.status, 403, what);
  }
  const after = (await admin('GET', userPath(USER.id))).body;
  assert.deepEqual(after, before, 'the refusals changed nothing');
});

test('self-service writes are limited per user: the 11th in a minute is 429', async () => {
  const limited = await startIssuer();
  try {
    const me = managementClient(limited, await userToken(limited, 'update:current_user_metadata'));
    for (let i = 0; i < 10; i++) {
      assert.equal((await me('PATCH', userPath(USER.id), { user_metadata: { n: i } })).status, 200, `write ${i}`);
    }
    const refused = await me('PATCH', userPath(USER.id), { user_metadata: { n: 10 } });
    assert.equal(refused.status, 429);
    assert.equal(refused.headers.get('retry-after'), '60');
    const stored = (await managementClient(limited, await adminToken(limited))('GET', userPath(USER.id))).body;
    assert.equal(stored.user_metadata.n, 9);
  } finally {
    await limited.mf.dispose();
  }
});

test('look-alike addresses: D1 refuses a new one; the scheduled run keys users from before the rule', async () => {
  const make = (email) => admin('POST', '/api/v2/users', { connection: CONNECTION, email, password: 'a long enough password' });
  assert.equal((await make('lookalike.test@example.com')).status, 201);
  for (const fake of ['lookalike.tеst@example.com', 'ｌｏｏｋａｌｉｋｅ.test@example.com', 'lookalike.test@examp1e.com']) {
    const refused = await make(fake);
    assert.equal(refused.status, 409, `${fake}: ${JSON.stringify(refused.body)}`);
  }
  assert.equal((await make('lookalike\u200b.other@example.com')).status, 400);

  // Two users from before the rule, one a look-alike of the other, with no key yet.
  const insert = (id, email) =>
    issuer.db
      .prepare("INSERT INTO users (user_id, connection, email, created_at, updated_at) VALUES (?1, ?2, ?3, 0, 0)")
      .bind(id, CONNECTION, email)
      .run();
  await insert('auth0|legacy1', 'legacy.user@example.com');
  await insert('auth0|legacy2', 'legacy.usеr@example.com');
  const worker = await issuer.mf.getWorker();
  await worker.scheduled({ cron: '17 3 * * *', scheduledTime: new Date() });
  const { results } = await issuer.db.prepare("SELECT user_id, email_key FROM users WHERE user_id IN ('auth0|legacy1', 'auth0|legacy2') ORDER BY user_id").all();
  assert.equal(results.length, 2);
  assert.ok(results[0].email_key && !results[0].email_key.startsWith('look-alike:'), JSON.stringify(results));
  assert.equal(results[1].email_key, 'look-alike:auth0|legacy2', 'the later look-alike gets a key of its own');
  assert.equal((await make('legacy.user@example.com')).status, 409, 'a third one is refused');
  const { results: unkeyed } = await issuer.db.prepare('SELECT count(*) AS n FROM users WHERE email_key IS NULL AND email IS NOT NULL').all();
  assert.equal(unkeyed[0].n, 0, 'the seed users are keyed too');
});
