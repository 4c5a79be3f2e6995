// Email flows end to end on workerd: the tenant's email provider is a webhook to the local
// outbox `make dev` runs (scripts/outbox.mjs, which checks every message's signature), set
// through the management API. Headless Chromium signs up and follows the verification link,
// asks for a reset from the login page and sets a new password; the `auth0` SDK's
// AuthenticationClient signs up and asks for resets as Auth0's customers' code does. Links
// are raced 20-way, reused, made up and expired. Screenshots go to test-output/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { USER, pkce, passwordRequest, refreshRequest } from './harness.mjs';
import { adminToken } from './management.mjs';
import { OUT, startMailTenant, stopMailTenant, waitForMessage } from './mail.mjs';

const CONNECTION = 'Username-Password-Authentication';
const NEW_PASSWORD = 'a fresh passphrase for demo';

let tenant;
let issuer;
let APP_ORIGIN;
let outbox;
let browser;
let auth;

const message = (to, template, after = 0) => waitForMessage(outbox, to, template, after);

async function idToken(code, verifier) {
  const tokens = await (await issuer.fetch('/oauth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: 'demo-spa', code, redirect_uri: `${APP_ORIGIN}/callback`, code_verifier: verifier }),
  })).json();
  const jwks = createRemoteJWKSet(new URL(`${issuer.issuer}/.well-known/jwks.json`));
  return (await jwtVerify(tokens.id_token, jwks, { issuer: issuer.issuer, audience: 'demo-spa' })).payload;
}

function authorizeQuery(extra = {}) {
  const { verifier, challenge } = pkce();
  const query = new URLSearchParams({
    client_id: 'demo-spa', response_type: 'code', redirect_uri: `${APP_ORIGIN}/callback`,
    scope: 'openid profile email', state: 'st-mail', nonce: 'n-mail', code_challenge: challenge, code_challenge_method: 'S256', ...extra,
  });
  return { query, verifier };
}

before(async () => {
  tenant = await startMailTenant('an-outbox-secret-for-this-test-run-0123');
  ({ issuer, appOrigin: APP_ORIGIN, outbox, browser, auth } = tenant);
});
after(() => stopMailTenant(tenant));

test('a person signs up, follows the emailed link, and the next ID token says the email is verified', async () => {
  const email = 'grace@example.com';
  const page = await browser.newPage();
  const first = authorizeQuery({ screen_hint: 'signup' });
  await page.goto(`${issuer.issuer}/authorize?${first.query}`);
  await page.fill('#email', email);
  await page.fill('#password', 'a long enough password');
  await page.click('button[type=submit]');
  await page.waitForURL((url) => url.origin === APP_ORIGIN);
  const before = await idToken(new URL(page.url()).searchParams.get('code'), first.verifier);
  assert.equal(before.email, email);
  assert.equal(before.email_verified, false);

  const sent = await message(email, 'verify_email');
  assert.equal(sent.from, 'auth@example.com');
  assert.match(sent.subject, /Verify your email/);
  assert.ok(sent.link.startsWith(`${issuer.issuer}/u/email-verification?ticket=`), sent.link);
  assert.equal(sent.user_id, before.sub);
  await page.goto(sent.link);
  assert.equal(await page.textContent('h1'), 'Email verified');
  await page.screenshot({ path: `${OUT}email-verified.png` });

  // The session signs the person in again at once; the new ID token has the news.
  const second = authorizeQuery();
  await page.goto(`${issuer.issuer}/authorize?${second.query}`);
  await page.waitForURL((url) => url.origin === APP_ORIGIN);
  const after = await idToken(new URL(page.url()).searchParams.get('code'), second.verifier);
  assert.equal(after.sub, before.sub);
  assert.equal(after.email_verified, true);

  // The link worked once.
  const again = await page.goto(sent.link);
  assert.equal(again.status(), 400);
  await page.close();
});

test('forgot password from the login page: the link sets a new one, and the old refresh token dies', async () => {
  const held = await (await passwordRequest(issuer, { scope: 'openid offline_access' })).json();
  assert.ok(held.refresh_token, JSON.stringify(held));
  const page = await browser.newPage();
  const { query } = authorizeQuery({ login_hint: USER.email });
  await page.goto(`${issuer.issuer}/authorize?${query}`);
  await page.getByRole('link', { name: 'Forgot password?' }).click();
  await page.waitForURL((url) => url.pathname === '/u/reset-password/request');
  assert.equal(await page.inputValue('#email'), USER.email, 'the hint carried over');
  const asked = Date.now();
  await page.click('button[type=submit]');
  assert.equal(await page.textContent('h1'), 'Check your email');
  await page.screenshot({ path: `${OUT}reset-requested.png` });

  const sent = await message(USER.email, 'reset_email', asked - 1);
  assert.ok(sent.link.startsWith(`${issuer.issuer}/u/reset-password?ticket=`), sent.link);
  await page.goto(sent.link);
  await page.fill('#password', NEW_PASSWORD);
  await page.fill('#confirm', NEW_PASSWORD);
  await page.screenshot({ path: `${OUT}reset-form.png` });
  await page.click('button[type=submit]');
  assert.equal(await page.textContent('h1'), 'Password changed');

  const refreshed = await refreshRequest(issuer, held.refresh_token);
  assert.equal(refreshed.status, 400);
  assert.equal((await refreshed.json()).error, 'invalid_grant');
  const old = await passwordRequest(issuer, {});
  assert.equal(old.status, 400, 'the old password is gone');
  const fresh = await passwordRequest(issuer, { password: NEW_PASSWORD });
  assert.equal(fresh.status, 200, await fresh.text());
  // The link is spent.
  const spent = await page.goto(sent.link);
  assert.equal(spent.status(), 400);
  await page.close();
});

test("the auth0 SDK signs up and asks for resets; links raced 20-way verify once; made-up and unknown get nothing", async () => {
  const { data: made } = await auth.database.signUp({ email: 'ada@example.com', password: 'a long enough password', connection: CONNECTION, given_name: 'Ada' });
  assert.equal(made.email, 'ada@example.com');
  assert.equal(made.email_verified, false);
  assert.ok(made.id, 'the SDK maps _id to id');
  await assert.rejects(
    auth.database.signUp({ email: 'ada@example.com', password: 'a long enough password', connection: CONNECTION }),
    (e) => e.statusCode === 400 && /user_exists/.test(e.body ?? e.message),
  );

  const sent = await message('ada@example.com', 'verify_email');
  const raced = await Promise.all(Array.from({ length: 20 }, () => issuer.fetch(new URL(sent.link).pathname + new URL(sent.link).search)));
  const statuses = raced.map((r) => r.status).sort();
  assert.deepEqual(statuses, [200, ...Array(19).fill(400)], 'one redemption wins');
  const forged = await issuer.fetch('/u/email-verification?ticket=made-up');
  assert.equal(forged.status, 400);

  // The same answer whether or not the address has an account; only the account gets mail.
  const count = outbox.messages.length;
  const known = await auth.database.changePassword({ email: 'ada@example.com', connection: CONNECTION });
  const unknown = await auth.database.changePassword({ email: 'nobody@example.com', connection: CONNECTION });
  assert.equal(known.data, unknown.data);
  assert.match(known.data, /sent you an email/);
  await message('ada@example.com', 'reset_email');
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(outbox.messages.length, count + 1);
  assert.equal(outbox.messages.some((m) => m.to === 'nobody@example.com'), false);

  // An expired reset link: a ticket of 60 s, an hour later (the clock is moved in D1).
  const token = await adminToken(issuer);
  const ticket = await (await issuer.fetch('/api/v2/tickets/password-change', {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ user_id: `auth0|${made.id}`, ttl_sec: 60 }),
  })).json();
  const link = new URL(ticket.ticket);
  assert.equal((await issuer.fetch(link.pathname + link.search)).status, 200);
  await issuer.db.prepare('UPDATE email_tickets SET expires_at = expires_at - 3600').run();
  assert.equal((await issuer.fetch(link.pathname + link.search)).status, 400);
});

test('the outbox page shows each message with its link', async () => {
  const page = await browser.newPage();
  await page.goto(outbox.url);
  assert.match(await page.title(), /^Outbox \(\d+\)$/);
  const links = await page.locator('a.link').count();
  assert.ok(links >= 3, `links: ${links}`);
  assert.ok((await page.textContent('main')).includes('Reset your password'));
  await page.screenshot({ path: `${OUT}outbox.png`, fullPage: true });
  // A message with a wrong signature is refused, not shown.
  const forged = await fetch(`${outbox.url}/hook`, { method: 'POST', headers: { 'x-edge-issuer-signature': 't=1,v1=00' }, body: '{}' });
  assert.equal(forged.status, 401);
  await page.close();
});
