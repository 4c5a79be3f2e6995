// Signing in through an upstream OpenID provider, end to end: npm `oidc-provider` (a certified
// OP) on its own port as the upstream, the issuer on workerd reaching it over real HTTP, and
// headless Chromium as the person. The connection is made with the `auth0` SDK's
// ManagementClient; a rule maps the provider's `groups` claim into the ID token. The browser
// goes: the client's /authorize → our login page → "Continue with Acme" → the provider's
// login and consent → back → code → tokens, verified with jose against our JWKS.
// Screenshots of our login page with the button (desktop and 360 px) go to test-output/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';
import Provider from 'oidc-provider';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { freePort, pkce, startIssuerWithApp } from './harness.mjs';
import { adminToken, sdkManagement } from './management.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const OUT = new URL('../../test-output/', import.meta.url).pathname;
const OP_CLIENT = { id: 'edge-issuer', secret: 'a-secret-the-provider-gave-us' };
const NS = 'https://example.com';

let issuer;
let op;
let opServer;
let app;
let browser;
let management;
let APP_ORIGIN;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: make test installs Debian's chromium`);
  const [issuerPort, opPort] = [await freePort(), await freePort()];
  const ISSUER = `http://127.0.0.1:${issuerPort}`;
  // The client's redirect URI: a page that only says the browser arrived.
  ({ issuer, app, appOrigin: APP_ORIGIN } = await startIssuerWithApp(issuerPort));

  op = new Provider(`http://127.0.0.1:${opPort}`, {
    clients: [{
      client_id: OP_CLIENT.id,
      client_secret: OP_CLIENT.secret,
      redirect_uris: [`${ISSUER}/login/callback/acme`],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    }],
    // Any login name signs in at the provider's development login form; the claims follow.
    async findAccount(ctx, id) {
      return {
        accountId: id,
        claims: async () => ({ sub: id, email: `${id}@acme.test`, email_verified: true, name: `${id} of Acme`, groups: ['navy', 'cobol'] }),
      };
    },
    claims: { openid: ['sub', 'groups'], email: ['email', 'email_verified'], profile: ['name'] },
    // The profile in the ID token itself, as most providers send it.
    conformIdTokenClaims: false,
    cookies: { keys: ['upstream-test-cookie-key'] },
    features: { devInteractions: { enabled: true } },
  });
  opServer = op.listen(opPort, '127.0.0.1');
  await new Promise((r) => opServer.once('listening', r));

  management = sdkManagement(issuer);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  mkdirSync(OUT, { recursive: true });
});
after(async () => {
  await browser?.close();
  opServer?.close();
  app?.close();
  await issuer?.mf.dispose();
});

test('a person signs in at an OpenID provider through the login page, and comes back with our tokens', async () => {
  // The connection, as an admin script written for Auth0 makes it: discovery by issuer.
  const { data: connection } = await management.connections.create({
    name: 'acme',
    strategy: 'oidc',
    display_name: 'Acme',
    options: { type: 'back_channel', issuer: op.issuer, client_id: OP_CLIENT.id, client_secret: OP_CLIENT.secret, scope: 'openid profile email' },
    enabled_clients: ['demo-spa'],
  });
  assert.equal(connection.options.token_endpoint, `${op.issuer}/token`, 'discovered');
  assert.equal(connection.options.client_secret, undefined, 'the secret is never shown');
  const { data: again } = await management.connections.get({ id: connection.id });
  assert.equal(JSON.stringify(again).includes(OP_CLIENT.secret), false);
  // An update through the SDK that does not send the secret again keeps it (the sign-in
  // below redeems its code with it).
  const { data: updated } = await management.connections.update({ id: connection.id }, {
    options: { type: 'back_channel', issuer: op.issuer, client_id: OP_CLIENT.id, scope: 'openid profile email', upstream_params: { prompt: { value: 'login' } } },
  });
  assert.deepEqual(updated.options.upstream_params, { prompt: { value: 'login' } });
  assert.equal(JSON.stringify(updated).includes(OP_CLIENT.secret), false);

  // A rule maps what the provider said (its groups claim) into our ID token.
  const rule = await issuer.fetch('/api/v2/rules', {
    method: 'POST',
    headers: { authorization: `Bearer ${await adminToken(issuer)}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'upstream groups',
      trigger: 'post-login',
      assignments: [{ target: 'id_token', claim: `${NS}/groups`, path: 'user.identities.0.profileData.groups' }],
    }),
  });
  assert.equal(rule.status, 201, await rule.text());

  const { verifier, challenge } = pkce();
  const query = new URLSearchParams({
    client_id: 'demo-spa', response_type: 'code', redirect_uri: `${APP_ORIGIN}/callback`,
    scope: 'openid profile email', state: 'st-1', nonce: 'n-1', code_challenge: challenge, code_challenge_method: 'S256',
  });
  const page = await browser.newPage();
  await page.goto(`${issuer.issuer}/authorize?${query}`);
  const button = page.getByRole('link', { name: 'Continue with Acme' });
  await button.waitFor();
  await page.screenshot({ path: `${OUT}login-upstream.png` });
  await page.setViewportSize({ width: 360, height: 740 });
  await page.screenshot({ path: `${OUT}login-upstream-360.png`, fullPage: true });
  await button.click();

  // The provider's own pages (oidc-provider's development login and consent).
  await page.waitForURL((url) => url.origin === op.issuer);
  await page.fill('input[name=login]', 'grace');
  await page.fill('input[name=password]', 'anything');
  await page.click('button[type=submit]');
  await page.waitForURL((url) => url.origin === op.issuer && url.pathname.startsWith('/interaction'));
  if (await page.locator('button[type=submit]').count()) await page.click('button[type=submit]');
  await page.waitForURL((url) => url.origin === APP_ORIGIN);

  const back = new URL(page.url());
  assert.equal(back.searchParams.get('state'), 'st-1');
  const code = back.searchParams.get('code');
  assert.ok(code, back.href);
  const tokens = await (await issuer.fetch('/oauth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: 'demo-spa', code, redirect_uri: `${APP_ORIGIN}/callback`, code_verifier: verifier }),
  })).json();
  const jwks = createRemoteJWKSet(new URL(`${issuer.issuer}/.well-known/jwks.json`));
  const { payload } = await jwtVerify(tokens.id_token, jwks, { issuer: issuer.issuer, audience: 'demo-spa' });
  assert.equal(payload.sub, 'oidc|acme|grace');
  assert.equal(payload.email, 'grace@acme.test');
  assert.equal(payload.name, 'grace of Acme');
  assert.equal(payload.nonce, 'n-1');
  assert.deepEqual(payload[`${NS}/groups`], ['navy', 'cobol'], 'a rule read the provider profile');

  // The user and the identity, as the management API shows them.
  const { data: user } = await management.users.get({ id: 'oidc|acme|grace' });
  assert.equal(user.identities[0].provider, 'oidc');
  assert.equal(user.identities[0].connection, 'acme');
  assert.equal(user.identities[0].user_id, 'acme|grace');
  await page.close();
});

