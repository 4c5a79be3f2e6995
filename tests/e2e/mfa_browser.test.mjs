// The second factor on the hosted pages, in headless Chromium with Auth0's auth0-spa-js
// unchanged: the admin turns the authenticator app on for everyone through the management
// API of the running Worker; the next sign-in sets up an app from the page (its key read off
// the page, codes made by the `otpauth` library as a phone would), and the one after asks
// for a code only. The QR code is scanned from the page's pixels. Screenshots of both pages, desktop and 360 px wide, go to test-output/.
// Then the remembered browser: with the box offered, a user ticks it, and the next sign-in
// from that browser (its session gone) skips the code until an admin forgets the browser.
// Last, a post-login hook (a second Worker over a service binding) asks for a second factor
// where the policy does not: the page sets up an app, offering no box to remember.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { TOTP, Secret } from 'otpauth';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { join } from 'node:path';
import { USER } from './harness.mjs';
import { adminToken, managementClient } from './management.mjs';
import { OUT, startBrowserStack } from './browser_stack.mjs';

let stack;
let issuer;
let browser;
let SPA;
let ISSUER_ORIGIN;

const HOOK_SECRET = 'dev-only-hook-secret-of-the-browser-test';

before(async () => {
  const scriptPath = join(new URL('.', import.meta.url).pathname, 'hook-worker.mjs');
  stack = await startBrowserStack({ hookWorker: { scriptPath, bindings: { HOOK_SECRET } } });
  ({ issuer, browser, spaUrl: SPA, issuerOrigin: ISSUER_ORIGIN } = stack);
});
after(() => stack?.close());

/** From the SPA's "Log in" to the page after the password (none with `next: false`: the
 * sign-in goes straight back to the app). */
async function password(page, { next = true } = {}) {
  await page.goto(SPA);
  await page.locator('#login:not([hidden])').click();
  await page.waitForURL((url) => url.origin === ISSUER_ORIGIN && url.pathname === '/authorize');
  await page.fill('#email', USER.email);
  await page.fill('#password', USER.password);
  await page.click('button[type=submit]');
  // The next page is the answer to the posted form.
  if (next) await page.waitForURL((url) => url.pathname === '/u/login');
}

async function signedIn(page) {
  await page.waitForURL(SPA);
  await page.locator('#status', { hasText: 'Signed in' }).waitFor();
  return JSON.parse(await page.locator('#claims').textContent());
}

test('a user sets up an authenticator app on the hosted page, then signs in with its codes', async () => {
  const admin = managementClient(issuer, await adminToken(issuer));
  for (const factor of ['otp', 'recovery-code']) {
    assert.equal((await admin('PUT', `/api/v2/guardian/factors/${factor}`, { enabled: true })).status, 200);
  }
  assert.equal((await admin('PUT', '/api/v2/guardian/policies', ['all-applications'])).status, 200);

  const page = await browser.newPage();
  await password(page);
  await page.locator('h1', { hasText: 'Set up two-step sign-in' }).waitFor();
  assert.equal(await page.locator('svg.qr').count(), 1);
  const qr = await page.locator('svg.qr').boundingBox();
  assert.ok(qr.width >= 150 && qr.height >= 150, 'the QR code is drawn large enough to scan');
  await page.screenshot({ path: `${OUT}mfa-enroll-desktop.png`, fullPage: true });
  await page.setViewportSize({ width: 360, height: 740 });
  await page.screenshot({ path: `${OUT}mfa-enroll-360.png`, fullPage: true });
  const key = (await page.locator('code.key').textContent()).replaceAll(' ', '');
  // The QR code scans (jsQR reads the drawn pixels, as a phone's camera would) to the app's
  // URI, with the key shown as text.
  const png = PNG.sync.read(await page.locator('svg.qr').screenshot());
  const scanned = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  assert.ok(scanned, 'the QR code scans');
  const uri = new URL(scanned.data);
  assert.equal(uri.protocol, 'otpauth:');
  assert.equal(uri.searchParams.get('secret'), key);
  assert.equal(uri.host, 'totp');
  assert.equal(decodeURIComponent(uri.pathname), `/127.0.0.1:${USER.email}`);
  const codes = await page.locator('ol.codes code').allTextContents();
  assert.equal(codes.length, 10);
  const app = new TOTP({ secret: Secret.fromBase32(key), algorithm: 'SHA1', digits: 6, period: 30 });

  // A wrong code: the same page again, saying so, with the same key.
  await page.fill('#code', String((Number(app.generate()) + 1) % 1_000_000).padStart(6, '0'));
  await page.click('button[type=submit]');
  await page.locator('#form-error', { hasText: 'The code is wrong' }).waitFor();
  assert.equal((await page.locator('code.key').textContent()).replaceAll(' ', ''), key);
  const now = Date.now();
  await page.fill('#code', app.generate({ timestamp: now }));
  await page.click('#code ~ button[type=submit]');
  const claims = await signedIn(page);
  assert.equal(claims.sub, USER.id);
  assert.deepEqual(claims.amr, ['pwd', 'otp', 'mfa']);

  // Signed out, the next sign-in asks for a code only.
  await page.context().clearCookies();
  await page.evaluate(() => localStorage.clear());
  await password(page);
  await page.locator('h1', { hasText: 'Verify it is you' }).waitFor();
  assert.equal(await page.locator('svg.qr').count(), 0);
  await page.setViewportSize({ width: 360, height: 740 });
  await page.screenshot({ path: `${OUT}mfa-challenge-360.png`, fullPage: true });
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: `${OUT}mfa-challenge-desktop.png` });
  await page.fill('#code', app.generate({ timestamp: now + 30_000 }));
  await page.click('#code ~ button[type=submit]');
  assert.deepEqual((await signedIn(page)).amr, ['pwd', 'otp', 'mfa']);

  // And a recovery code works from the page's "Lost your phone?".
  await page.context().clearCookies();
  await page.evaluate(() => localStorage.clear());
  await password(page);
  await page.click('summary');
  await page.fill('#recovery', codes[0]);
  await page.click('#recovery ~ button[type=submit]');
  assert.deepEqual((await signedIn(page)).amr, ['pwd', 'mfa']);
  await page.close();
  assert.equal((await admin('PUT', '/api/v2/guardian/factors/otp', { enabled: false })).status, 200);
});

test('a ticked "Remember this browser" skips the code in that browser until an admin forgets it', async () => {
  const admin = managementClient(issuer, await adminToken(issuer));
  assert.equal((await admin('PUT', '/api/v2/guardian/factors/otp', { enabled: true })).status, 200);
  assert.equal((await admin('PUT', '/api/v2/guardian/policies', ['all-applications'])).status, 200);
  const on = await admin('PUT', '/api/v2/guardian/settings', { display_remember_me_checkbox: true });
  assert.equal(on.status, 200);
  assert.equal(on.body.mfa_session_overall_timeout, 2592000);
  const user = encodeURIComponent(USER.id);
  assert.equal((await admin('DELETE', `/api/v2/users/${user}/authenticators`)).status, 204);

  const page = await browser.newPage();
  await password(page);
  await page.locator('h1', { hasText: 'Set up two-step sign-in' }).waitFor();
  const key = (await page.locator('code.key').textContent()).replaceAll(' ', '');
  const app = new TOTP({ secret: Secret.fromBase32(key), algorithm: 'SHA1', digits: 6, period: 30 });
  const box = page.getByLabel('Remember this browser for 30 days');
  assert.equal(await box.isChecked(), false, 'not ticked unless the tenant says so');
  await box.check();
  await page.screenshot({ path: `${OUT}mfa-remember-desktop.png`, fullPage: true });
  await page.setViewportSize({ width: 360, height: 740 });
  await page.locator('label.check').scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${OUT}mfa-remember-360.png` });
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.fill('#code', app.generate());
  await page.click('#code ~ button[type=submit]');
  assert.deepEqual((await signedIn(page)).amr, ['pwd', 'otp', 'mfa']);
  const cookies = await page.context().cookies(ISSUER_ORIGIN);
  const remembered = cookies.find((c) => c.name === '__Host-mfa');
  assert.ok(remembered, 'the browser is remembered');
  assert.ok(remembered.httpOnly && remembered.secure && remembered.sameSite === 'Lax');
  assert.ok(remembered.expires * 1000 > Date.now() + 29 * 86_400_000, 'for 30 days');

  // Signed out (the session's cookie and the app's tokens gone): the password alone signs
  // in from this browser, and the ID token says so.
  await page.context().clearCookies({ name: '__Host-session' });
  await page.evaluate(() => localStorage.clear());
  await password(page, { next: false });
  assert.deepEqual((await signedIn(page)).amr, ['pwd']);

  // The admin forgets the user's browsers: the code is asked again.
  const forget = `/api/v2/users/${user}/multifactor/actions/invalidate-remember-browser`;
  assert.equal((await admin('POST', forget)).status, 204);
  await page.context().clearCookies({ name: '__Host-session' });
  await page.evaluate(() => localStorage.clear());
  await password(page);
  await page.locator('h1', { hasText: 'Verify it is you' }).waitFor();
  await page.close();
  assert.equal((await admin('PUT', '/api/v2/guardian/settings', { display_remember_me_checkbox: false })).status, 200);
  assert.equal((await admin('PUT', '/api/v2/guardian/factors/otp', { enabled: false })).status, 200);
});

test("a post-login hook's multifactor sends the sign-in to the second factor's page", async () => {
  const admin = managementClient(issuer, await adminToken(issuer));
  assert.equal((await admin('PUT', '/api/v2/guardian/factors/otp', { enabled: true })).status, 200);
  assert.equal((await admin('PUT', '/api/v2/guardian/policies', [])).status, 200);
  const on = { display_remember_me_checkbox: true };
  assert.equal((await admin('PUT', '/api/v2/guardian/settings', on)).status, 200);
  const user = encodeURIComponent(USER.id);
  assert.equal((await admin('DELETE', `/api/v2/users/${user}/authenticators`)).status, 204);
  // The policy asks nothing of a user without an app: the password alone signs in.
  const page = await browser.newPage();
  await password(page, { next: false });
  assert.deepEqual((await signedIn(page)).amr, ['pwd']);

  // Through the management API, which the issuer's caches hear of (a row edited in D1 would
  // wait for them).
  const made = await admin('POST', '/api/v2/hooks', {
    name: 'mfa-browser-hook', trigger: 'post-login', service: 'HOOKS', secret: HOOK_SECRET,
    timeout_ms: 2000, on_failure: 'deny',
  });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const metadata = (m) => admin('PATCH', '/api/v2/clients/demo-spa', { client_metadata: m });
  assert.equal((await metadata({ hook_mode: 'mfa' })).status, 200);
  try {
    await page.context().clearCookies();
    await page.evaluate(() => localStorage.clear());
    await password(page);
    await page.locator('h1', { hasText: 'Set up two-step sign-in' }).waitFor();
    assert.equal(await page.locator('label.check').count(), 0, "a hook's ask offers no box to remember");
    const key = (await page.locator('code.key').textContent()).replaceAll(' ', '');
    const app = new TOTP({ secret: Secret.fromBase32(key), algorithm: 'SHA1', digits: 6, period: 30 });
    await page.fill('#code', app.generate());
    await page.click('#code ~ button[type=submit]');
    // The pipeline ran again after the factor; the hook, seeing `mfa`, let it through.
    assert.deepEqual((await signedIn(page)).amr, ['pwd', 'otp', 'mfa']);
  } finally {
    await metadata({ hook_mode: 'normal' });
    await admin('DELETE', `/api/v2/hooks/${made.body.id}`);
    await page.close();
    await admin('PUT', '/api/v2/guardian/settings', { display_remember_me_checkbox: false });
    await admin('PUT', '/api/v2/guardian/factors/otp', { enabled: false });
  }
});
