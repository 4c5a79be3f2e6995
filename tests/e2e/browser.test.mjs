// The example SPA in a real browser: headless Chromium (Debian's package) driven by
// playwright-core, Auth0's @auth0/auth0-spa-js unchanged against the issuer on workerd with D1.
// Sign in through the hosted login form, show the user, get tokens silently both ways (refresh
// token; hidden iframe with web_message), call /userinfo, save the user's own user_metadata
// through the management API, log out. Screenshots of the login
// page, desktop and 360 px wide, go to test-output/.
//
// The issuer and the SPA take free ports (so `make dev` may run meanwhile); the seed's demo-spa
// is registered at the SPA's; the issuer has the trailing-slash issuer the SDK expects.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { USER } from './harness.mjs';
import { OUT, startBrowserStack } from './browser_stack.mjs';

let stack;
let issuer;
let browser;
let SPA;
let ISSUER_ORIGIN;

before(async () => {
  stack = await startBrowserStack();
  ({ issuer, browser, spaUrl: SPA, issuerOrigin: ISSUER_ORIGIN } = stack);
});
after(() => stack?.close());

test('auth0-spa-js signs in, shows the user, gets tokens silently both ways, calls /userinfo, saves user_metadata, logs out', async () => {
  const page = await browser.newPage();
  const text = (id) => page.locator(`#${id}`).textContent();
  await page.goto(SPA);
  await page.locator('#login:not([hidden])').click();
  await page.waitForURL((url) => url.origin === ISSUER_ORIGIN && url.pathname === '/authorize');
  await page.screenshot({ path: `${OUT}login-desktop.png` });
  await page.setViewportSize({ width: 360, height: 740 });
  await page.screenshot({ path: `${OUT}login-360.png`, fullPage: true });

  await page.fill('#email', USER.email);
  await page.fill('#password', USER.password);
  await page.click('button[type=submit]');
  await page.waitForURL(SPA);
  await page.locator('#status', { hasText: 'Signed in' }).waitFor();
  assert.match(await text('profile'), new RegExp(USER.email));
  const claims = JSON.parse(await text('claims'));
  assert.equal(claims.sub, USER.id);
  assert.equal(claims.iss, `${ISSUER_ORIGIN}/`);

  await page.click('#silent-refresh');
  await page.locator('#result', { hasText: 'refresh' }).waitFor();
  assert.match(await text('result'), /"refreshed": true/, await text('result'));

  await page.click('#silent-iframe');
  await page.locator('#result', { hasText: 'iframe' }).waitFor();
  assert.match(await text('result'), /"via": "web_message"/, await text('result'));

  await page.click('#userinfo');
  await page.locator('#result', { hasText: 'userinfo' }).waitFor();
  assert.match(await text('result'), new RegExp(USER.email), await text('result'));

  // The user edits their own user_metadata from the browser, cross-origin, with their own
  // token for the management API.
  await page.click('#metadata');
  await page.locator('#result', { hasText: 'user_metadata' }).waitFor();
  assert.match(await text('result'), /"theme": "light"/, await text('result'));
  assert.match(await text('result'), /"saved_at"/, await text('result'));

  await page.click('#logout');
  await page.waitForURL(SPA);
  await page.locator('#status', { hasText: 'Signed out' }).waitFor();
  await page.close();
});

/** Desktop and 360 px screenshots of the page as it is, kept under test-output/. */
async function shots(page, name) {
  await page.setViewportSize({ width: 1280, height: 800 });
  await page.screenshot({ path: `${OUT}${name}-desktop.png` });
  await page.setViewportSize({ width: 360, height: 740 });
  await page.screenshot({ path: `${OUT}${name}-360.png`, fullPage: true });
}

test('the hosted pages as a person meets them: a refused password, sign-up, an error, the logout question', async () => {
  const page = await browser.newPage();
  const authorize = (extra = '') =>
    `${ISSUER_ORIGIN}/authorize?response_type=code&client_id=demo-spa&redirect_uri=${encodeURIComponent(SPA)}` +
    `&scope=openid&state=s&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256${extra}`;

  await page.goto(authorize());
  await page.fill('#email', USER.email);
  await page.fill('#password', 'not the password');
  await page.click('button[type=submit]');
  await page.locator('#form-error').waitFor();
  // Focus is on the message, which names the problem; the fields say they are invalid.
  assert.equal(await page.evaluate(() => document.activeElement?.id), 'form-error');
  assert.equal(await page.locator('#password').getAttribute('aria-invalid'), 'true');
  assert.equal(await page.locator('#email').getAttribute('aria-describedby'), 'form-error');
  await shots(page, 'login-refused');

  await page.goto(authorize('&screen_hint=signup'));
  assert.match(await page.locator('#password-rule').textContent(), /At least 8 characters/);
  await shots(page, 'signup');

  await page.goto(`${ISSUER_ORIGIN}/authorize?response_type=code&client_id=demo-spa&redirect_uri=${encodeURIComponent('https://evil.example/')}`);
  assert.match(await page.locator('h1').textContent(), /could not sign you in/);
  assert.match(await page.locator('main').textContent(), /start signing in again/);
  await shots(page, 'error');

  await page.goto(`${ISSUER_ORIGIN}/oidc/logout`);
  assert.match(await page.locator('h1').textContent(), /Sign out\?/);
  await shots(page, 'logout-confirm');
  await page.click('button[type=submit]');
  await page.locator('h1', { hasText: 'You are signed out' }).waitFor();
  await shots(page, 'signed-out');
  await page.close();
});
