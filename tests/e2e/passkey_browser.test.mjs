// Passkeys on the hosted pages, in headless Chromium with Auth0's auth0-spa-js unchanged and
// Chromium's virtual authenticator (the DevTools protocol's WebAuthn domain) as the device:
// the admin turns the passkey factor on for everyone; the next sign-in sets a passkey up
// after the password; the one after signs in with the passkey alone. The issuer runs at
// 127.0.0.1 as in `make dev`, so its hosted pages move to localhost (browsers refuse passkeys
// at an IP address) while the app and the token endpoint stay at 127.0.0.1. Screenshots go
// to test-output/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { USER } from './harness.mjs';
import { adminToken, managementClient } from './management.mjs';
import { OUT, startBrowserStack } from './browser_stack.mjs';

let stack;
let issuer;
let browser;
let SPA;
let PORT;

before(async () => {
  stack = await startBrowserStack();
  ({ issuer, browser, spaUrl: SPA, port: PORT } = stack);
});
after(() => stack?.close());

/** A page with a virtual platform authenticator that verifies its user (a fingerprint). */
async function pageWithAuthenticator(context) {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: 'internal',
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { page, cdp, authenticatorId };
}

/** From the SPA's "Log in" to the hosted login page, which is at localhost. */
async function loginPage(page) {
  await page.goto(SPA);
  await page.locator('#login:not([hidden])').click();
  await page.waitForURL((url) => url.host === `localhost:${PORT}` && url.pathname === '/authorize');
}

async function signedIn(page) {
  await page.waitForURL(SPA);
  await page.locator('#status', { hasText: 'Signed in' }).waitFor();
  return JSON.parse(await page.locator('#claims').textContent());
}

test('a passkey set up after the password then signs in alone', async () => {
  const admin = managementClient(issuer, await adminToken(issuer));
  assert.equal((await admin('PUT', '/api/v2/guardian/factors/webauthn-platform', { enabled: true })).status, 200);
  assert.equal((await admin('PUT', '/api/v2/guardian/policies', ['all-applications'])).status, 200);

  const context = await browser.newContext();
  const { page, cdp, authenticatorId } = await pageWithAuthenticator(context);
  await loginPage(page);
  await page.fill('#email', USER.email);
  await page.fill('#password', USER.password);
  await page.click('button[type=submit]');
  await page.locator('h1', { hasText: 'Set up two-step sign-in' }).waitFor();
  await page.screenshot({ path: `${OUT}passkey-enroll-desktop.png`, fullPage: true });
  await page.setViewportSize({ width: 360, height: 740 });
  await page.screenshot({ path: `${OUT}passkey-enroll-360.png`, fullPage: true });
  await page.setViewportSize({ width: 1280, height: 720 });
  await page.click('#wb');
  const first = await signedIn(page);
  assert.equal(first.sub, USER.id);
  assert.deepEqual(first.amr, ['pwd', 'hwk', 'user', 'mfa']);
  assert.equal(first.iss, `http://127.0.0.1:${PORT}/`, 'tokens stay the issuer\'s');
  const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.equal(credentials.length, 1);
  assert.equal(credentials[0].isResidentCredential, true, 'a discoverable passkey');
  assert.equal(credentials[0].rpId, 'localhost');
  const methods = (await admin('GET', `/api/v2/users/${encodeURIComponent(USER.id)}/authentication-methods`)).body;
  assert.equal(methods[0].type, 'webauthn-platform');

  // Signed out, the login page offers the passkey in the email field's autofill (the
  // browser's conditional mediation, which the virtual device answers at once): it signs in
  // with no password.
  await context.clearCookies();
  await page.evaluate(() => localStorage.clear());
  await loginPage(page);
  const second = await signedIn(page);
  assert.equal(second.sub, USER.id);
  assert.deepEqual(second.amr, ['hwk', 'user', 'mfa']);
  assert.equal(second.acr, 'http://schemas.openid.net/pape/policies/2007/06/multi-factor');

  // And by its button: with the device waiting for a touch, the autofill request waits too;
  // the button's request is answered when the touch comes.
  await context.clearCookies();
  await page.evaluate(() => localStorage.clear());
  await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: false });
  await loginPage(page);
  const button = page.locator('#wb', { hasText: 'Sign in with a passkey' });
  await button.waitFor();
  assert.equal(await page.locator('#email').getAttribute('autocomplete'), 'username webauthn');
  await page.screenshot({ path: `${OUT}passkey-login-desktop.png`, fullPage: true });
  await page.setViewportSize({ width: 360, height: 740 });
  await page.screenshot({ path: `${OUT}passkey-login-360.png`, fullPage: true });
  await cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId, enabled: true });
  await button.click();
  assert.deepEqual((await signedIn(page)).amr, ['hwk', 'user', 'mfa']);
  const after = await cdp.send('WebAuthn.getCredentials', { authenticatorId });
  assert.ok(after.credentials[0].signCount >= 3, 'the counter moved on');

  // A browser whose device has no passkey for this site cannot use that button to sign in.
  const stranger = await browser.newContext();
  const other = await pageWithAuthenticator(stranger);
  await loginPage(other.page);
  await other.page.click('#wb');
  await other.page.locator('#we:not([hidden])').waitFor();
  await stranger.close();
  await context.close();
});
