// Bulk import on workerd with D1: 10,000 users of an Auth0 export, their bcrypt hashes made by
// an independent implementation (npm bcryptjs), uploaded as a file the way Auth0's API takes
// it; then an imported user signs in with their old password and is upgraded.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import bcrypt from 'bcryptjs';
import { startIssuer, passwordRequest } from './harness.mjs';
import { adminToken, managementClient } from './management.mjs';

let issuer;
let token;

before(async () => {
  issuer = await startIssuer();
  token = await adminToken(issuer);
});
after(async () => {
  await issuer?.mf.dispose();
});

test('10,000 users import in one job, and an imported user signs in', async () => {
  const hash = bcrypt.hashSync('legacy password 42', 10);
  const users = Array.from({ length: 10_000 }, (_, i) => ({
    email: `bulk-${i}@example.com`,
    email_verified: true,
    user_id: `bulk-${i}`,
    name: `Bulk ${i}`,
    app_metadata: { cohort: i % 7 },
    custom_password_hash: { algorithm: 'bcrypt', hash: { value: hash } },
  }));
  users.push({ email: 'not an email' });
  const form = new FormData();
  form.append('users', new Blob([JSON.stringify(users)], { type: 'application/json' }), 'users.json');
  form.append('connection_id', 'Username-Password-Authentication');
  form.append('upsert', 'false');
  form.append('send_completion_email', 'false');
  // Encoded as an HTTP client sends it (Miniflare's dispatchFetch drops a FormData body's
  // content type).
  const encoded = new Request(new URL('/api/v2/jobs/users-imports', issuer.issuer), { method: 'POST', body: form });
  const body = new Uint8Array(await encoded.arrayBuffer());
  const started = performance.now();
  const res = await issuer.fetch('/api/v2/jobs/users-imports', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': encoded.headers.get('content-type') },
    body,
  });
  const took = performance.now() - started;
  const job = await res.json();
  assert.equal(res.status, 201, JSON.stringify(job));
  assert.deepEqual(job.summary, { total: 10_001, inserted: 10_000, updated: 0, failed: 1 });
  console.log(`import of 10,000 users (${(body.length / 1024 / 1024).toFixed(1)} MiB): ${took.toFixed(0)} ms`);

  const admin = managementClient(issuer, token);
  const errors = await admin('GET', `/api/v2/jobs/${job.id}/errors`);
  assert.equal(errors.body.length, 1);
  assert.equal(errors.body[0].user.email, 'not an email');
  const found = await admin('GET', `/api/v2/users?include_totals=true&per_page=1&q=${encodeURIComponent('app_metadata.cohort:3')}`);
  assert.equal(found.body.total, 1429);

  const login = await passwordRequest(issuer, { username: 'bulk-9999@example.com', password: 'legacy password 42' }, { ip: '198.51.100.42' });
  assert.equal(login.status, 200, await login.text());
  const { results } = await issuer.db.prepare("SELECT password_hash FROM users WHERE user_id = 'auth0|bulk-9999'").all();
  assert.match(results[0].password_hash, /^\$pbkdf2-sha256\$/, 'upgraded at the first login');
  const wrong = await passwordRequest(issuer, { username: 'bulk-5@example.com', password: 'not it' }, { ip: '198.51.100.43' });
  assert.equal(wrong.status, 400);
});
