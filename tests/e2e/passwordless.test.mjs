// Passwordless sign-in by email end to end on workerd: an `email` connection made through
// the management API, messages caught by the local outbox (scripts/outbox.mjs, which checks
// their signatures). Headless Chromium asks for a code on the login page and types it; the
// `auth0` SDK's AuthenticationClient asks for a code and redeems it with Auth0's OTP grant, as
// Auth0's customers' code does (for an access token: the SDK would check an ID token against
// `https://<domain>/`, and this issuer runs on plain http for the browser); a link opened in a browser that never saw the login page
// completes the one authorization request it was made for. Codes are raced 20-way, reused,
// mistyped and expired. Screenshots go to test-output/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { APP, pkce } from './harness.mjs';
import { OUT, startMailTenant, stopMailTenant, waitForMessage } from './mail.mjs';

const OTP = 'http://auth0.com/oauth/grant-type/passwordless/otp';

let tenant;
let issuer;
let APP_ORIGIN;
let outbox;
let browser;
let auth;

const message = (to, template, since = 0) => waitForMessage(outbox, to, template, since);

async function verified(idToken, audience) {
  const jwks = createRemoteJWKSet(new URL(`${issuer.issuer}/.well-known/jwks.json`));
  return (await jwtVerify(idToken, jwks, { issuer: issuer.issuer, audience })).payload;
}

async function redeem(code, verifier) {
  const tokens = await (await issuer.fetch('/oauth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: 'demo-spa', code, redirect_uri: `${APP_ORIGIN}/callback`, code_verifier: verifier }),
  })).json();
  return verified(tokens.id_token, 'demo-spa');
}

function authParams() {
  const { verifier, challenge } = pkce();
  const params = {
    client_id: 'demo-spa', response_type: 'code', redirect_uri: `${APP_ORIGIN}/callback`,
    scope: 'openid profile email', state: 'st-code', nonce: 'n-code', code_challenge: challenge, code_challenge_method: 'S256',
  };
  return { params, verifier };
}

function otpRequest(username, otp) {
  return issuer.fetch('/oauth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: OTP, client_id: APP.id, client_secret: APP.secret, username, otp, realm: 'email', scope: 'openid email' }),
  });
}

before(async () => {
  tenant = await startMailTenant('an-outbox-secret-for-the-code-tests-0123');
  ({ issuer, appOrigin: APP_ORIGIN, outbox, browser, auth } = tenant);
  const connection = await tenant.manage('/api/v2/connections', { name: 'email', strategy: 'email', display_name: 'Email code', enabled_clients: ['demo-spa', APP.id] });
  assert.equal(connection.status, 201, await connection.text());
});
after(() => stopMailTenant(tenant));

test('the login page emails a code; a mistyped one is refused, the right one signs a new, verified user in', async () => {
  const email = 'lin@example.com';
  const { params, verifier } = authParams();
  for (const [width, name] of [[1280, 'code'], [360, 'code-360']]) {
    const page = await browser.newPage({ viewport: { width, height: 800 } });
    await page.goto(`${issuer.issuer}/authorize?${new URLSearchParams(params)}`);
    if (width === 1280) await page.screenshot({ path: `${OUT}login-with-code.png`, fullPage: true });
    await page.fill('#code-email', email);
    const since = Date.now() - 1;
    await page.getByRole('button', { name: 'Email me a code' }).click();
    assert.match(await page.textContent('h1'), /^Enter your code for /);
    const sent = await message(email, 'passwordless_code', since);
    assert.match(sent.code, /^\d{6}$/);
    assert.equal(sent.link, null, 'a code message carries no link');
    assert.ok(sent.subject.includes(sent.code), sent.subject);
    await page.screenshot({ path: `${OUT}${name}.png`, fullPage: true });
    if (width === 360) {
      await page.close();
      break;
    }
    await page.fill('#code', sent.code === '000000' ? '000001' : '000000');
    await page.getByRole('button', { name: 'Continue' }).click();
    assert.match(await page.textContent('[role=alert]'), /The code is wrong/);
    await page.screenshot({ path: `${OUT}code-wrong.png`, fullPage: true });
    await page.fill('#code', sent.code);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.waitForURL((url) => url.origin === APP_ORIGIN);
    const back = new URL(page.url()).searchParams;
    assert.equal(back.get('state'), 'st-code');
    const id = await redeem(back.get('code'), verifier);
    assert.match(id.sub, /^email\|[0-9a-f]{24}$/);
    assert.equal(id.email, email);
    assert.equal(id.email_verified, true);
    assert.deepEqual(id.amr, ['otp']);
    await page.close();
  }
});

test('the auth0 SDK asks for a code and redeems it once with the OTP grant; raced, reused and expired codes are refused', async () => {
  const email = 'ines@example.com';
  let since = Date.now() - 1;
  await auth.passwordless.sendEmail({ email, send: 'code' });
  let sent = await message(email, 'passwordless_code', since);
  await assert.rejects(
    auth.passwordless.loginWithEmail({ email, code: sent.code === '123456' ? '654321' : '123456' }),
    (e) => e.statusCode === 400 && /invalid_grant/.test(e.body ?? e.message),
  );
  // An access token for the API (the SDK checks ID tokens against `https://<domain>/`; this
  // issuer runs on plain http here, so none is asked for).
  const { data } = await auth.passwordless.loginWithEmail({ email, code: sent.code, audience: 'https://api.example.com' });
  assert.equal(data.id_token, undefined);
  const access = await verified(data.access_token, 'https://api.example.com');
  assert.match(access.sub, /^email\|/);
  assert.equal(access.gty, 'passwordless');
  await assert.rejects(auth.passwordless.loginWithEmail({ email, code: sent.code }), (e) => e.statusCode === 400);

  // Twenty tries of one code at once: one set of tokens.
  since = Date.now() - 1;
  await auth.passwordless.sendEmail({ email, send: 'code' });
  sent = await message(email, 'passwordless_code', since);
  const raced = await Promise.all(Array.from({ length: 20 }, () => otpRequest(email, sent.code)));
  const statuses = raced.map((r) => r.status).sort();
  assert.deepEqual(statuses, [200, ...Array(19).fill(400)], 'one redemption wins');

  // Expired: five minutes, no more (the clock is moved in D1).
  since = Date.now() - 1;
  await auth.passwordless.sendEmail({ email, send: 'code' });
  sent = await message(email, 'passwordless_code', since);
  await issuer.db.prepare('UPDATE passwordless_codes SET expires_at = expires_at - 301').run();
  assert.equal((await otpRequest(email, sent.code)).status, 400);
  // Nothing stored says the code: only its hash.
  since = Date.now() - 1;
  await auth.passwordless.sendEmail({ email, send: 'code' });
  sent = await message(email, 'passwordless_code', since);
  const row = await issuer.db.prepare('SELECT * FROM passwordless_codes WHERE email = ?').bind(email).first();
  assert.ok(!JSON.stringify(row).includes(sent.code), JSON.stringify(row));
});

test('a link opened in another browser completes the request it was made for, once', async () => {
  const email = 'oren@example.com';
  const { params, verifier } = authParams();
  const { client_id, ...rest } = params;
  const since = Date.now() - 1;
  const started = await issuer.fetch('/passwordless/start', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id, connection: 'email', email, send: 'link', authParams: rest }),
  });
  assert.equal(started.status, 200, await started.text());
  const sent = await message(email, 'passwordless_link', since);
  assert.ok(sent.link.startsWith(`${issuer.issuer}/passwordless/verify_redirect?`), sent.link);
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(sent.link);
  await page.waitForURL((url) => url.origin === APP_ORIGIN);
  const back = new URL(page.url()).searchParams;
  assert.equal(back.get('state'), 'st-code');
  const id = await redeem(back.get('code'), verifier);
  assert.equal(id.email, email);
  const again = await page.goto(sent.link);
  assert.equal(again.status(), 400);
  await page.screenshot({ path: `${OUT}code-link-used.png`, fullPage: true });
  await context.close();
});
