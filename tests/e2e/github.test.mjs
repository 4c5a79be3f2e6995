// Signing in through GitHub, end to end: a small GitHub-shaped OAuth 2.0 server the test starts
// (GitHub's authorize page, its token endpoint answering JSON, and its API's /user and
// /user/emails under /api/v3, as a GitHub Enterprise Server serves them), the issuer on
// workerd reaching it over real HTTP, and headless Chromium as the person. The connection is
// made with the `auth0` SDK's ManagementClient (Auth0's `github` options, plus
// `enterprise_url`). The browser goes: the client's /authorize → our login page → "Continue
// with GitHub" → GitHub's authorize page → back → code → tokens, verified with jose. A
// screenshot of our login page with the button goes to test-output/login-github.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { freePort, pkce, startIssuerWithApp } from './harness.mjs';
import { adminToken, sdkManagement } from './management.mjs';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const HUB_CLIENT = { id: 'Iv1.edge0issuer', secret: 'a-secret-github-gave-us' };
const NS = 'https://example.com';
const OUT = new URL('../../test-output/', import.meta.url).pathname;

let issuer;
let hub;
let HUB;
let app;
let browser;
let management;
let APP_ORIGIN;
/** What the GitHub-shaped server was asked, in order: `METHOD path user-agent`. */
const seen = [];
/** Codes it handed out: code → the PKCE challenge it was sent with. */
const codes = new Map();

/** A body read whole. */
const body = (req) => new Promise((resolve) => {
  let data = '';
  req.on('data', (c) => { data += c; });
  req.on('end', () => resolve(data));
});

/** GitHub, as far as signing in goes. */
async function github(req, res) {
  const url = new URL(req.url, HUB);
  seen.push(`${req.method} ${url.pathname} ${req.headers['user-agent'] ?? '-'}`);
  const json = (value) => { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify(value)); };
  if (url.pathname === '/login/oauth/authorize') {
    const q = url.searchParams;
    if (q.get('client_id') !== HUB_CLIENT.id) { res.statusCode = 404; return res.end('unknown app'); }
    const code = randomBytes(10).toString('hex');
    codes.set(code, q.get('code_challenge'));
    const back = new URL(q.get('redirect_uri'));
    back.searchParams.set('code', code);
    back.searchParams.set('state', q.get('state'));
    res.setHeader('content-type', 'text/html');
    return res.end(`<!doctype html><title>Authorize</title><h1>Authorize Edge Demo</h1>
      <p>Scopes: <span id="scope">${q.get('scope')}</span></p><a id="go" href="${back.href.replaceAll('&', '&amp;')}">Authorize</a>`);
  }
  if (url.pathname === '/login/oauth/access_token' && req.method === 'POST') {
    const form = new URLSearchParams(await body(req));
    const challenge = codes.get(form.get('code'));
    codes.delete(form.get('code'));
    const answered = createHash('sha256').update(form.get('code_verifier') ?? '').digest('base64url');
    // GitHub refuses a code with 200 and an error.
    if (!challenge || answered !== challenge || form.get('client_id') !== HUB_CLIENT.id || form.get('client_secret') !== HUB_CLIENT.secret) {
      return json({ error: 'bad_verification_code', error_description: 'The code passed is incorrect or expired.' });
    }
    return json({ access_token: 'gho_e2e', token_type: 'bearer', scope: 'read:user,user:email' });
  }
  if (req.headers.authorization !== 'Bearer gho_e2e' || !req.headers['user-agent']) {
    res.statusCode = 401;
    return json({ message: 'Requires authentication' });
  }
  if (url.pathname === '/api/v3/user') {
    return json({ login: 'octocat', id: 583231, name: 'The Octocat', company: '@github', avatar_url: 'https://avatars.githubusercontent.com/u/583231' });
  }
  if (url.pathname === '/api/v3/user/emails') {
    return json([
      { email: 'octocat@users.noreply.github.com', primary: false, verified: true },
      { email: 'octocat@github.test', primary: true, verified: true },
    ]);
  }
  res.statusCode = 404;
  return json({ message: 'Not Found' });
}

before(async () => {
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: make test installs Debian's chromium`);
  const [issuerPort, hubPort] = [await freePort(), await freePort()];
  HUB = `http://127.0.0.1:${hubPort}`;
  ({ issuer, app, appOrigin: APP_ORIGIN } = await startIssuerWithApp(issuerPort));
  hub = http.createServer((req, res) => { github(req, res).catch((e) => { res.statusCode = 500; res.end(String(e)); }); });
  hub.listen(hubPort, '127.0.0.1');
  await new Promise((r) => hub.once('listening', r));
  management = sdkManagement(issuer);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  mkdirSync(OUT, { recursive: true });
});
after(async () => {
  await browser?.close();
  hub?.close();
  app?.close();
  await issuer?.mf.dispose();
});

test('a person signs in with GitHub through the login page, with the primary email GitHub verified', async () => {
  const { data: connection } = await management.connections.create({
    name: 'github',
    strategy: 'github',
    display_name: 'GitHub',
    options: { client_id: HUB_CLIENT.id, client_secret: HUB_CLIENT.secret, email: true, read_org: true, profile: true, enterprise_url: HUB, store_idp_tokens: true },
    enabled_clients: ['demo-spa'],
  });
  assert.equal(JSON.stringify(connection).includes(HUB_CLIENT.secret), false, 'the secret is never shown');
  // A rule maps what GitHub said (the user's company) into the ID token.
  const rule = await issuer.fetch('/api/v2/rules', {
    method: 'POST',
    headers: { authorization: `Bearer ${await adminToken(issuer)}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      name: 'github company',
      trigger: 'post-login',
      assignments: [{ target: 'id_token', claim: `${NS}/company`, path: 'user.identities.0.profileData.company' }],
    }),
  });
  assert.equal(rule.status, 201, await rule.text());

  const { verifier, challenge } = pkce();
  const query = new URLSearchParams({
    client_id: 'demo-spa', response_type: 'code', redirect_uri: `${APP_ORIGIN}/callback`,
    scope: 'openid profile email', state: 'st-gh', nonce: 'n-gh', code_challenge: challenge, code_challenge_method: 'S256',
  });
  const page = await browser.newPage();
  await page.goto(`${issuer.issuer}/authorize?${query}`);
  const button = page.getByRole('link', { name: 'Continue with GitHub' });
  await button.waitFor();
  await page.screenshot({ path: `${OUT}login-github.png` });
  await button.click();
  await page.waitForURL((url) => url.origin === HUB);
  assert.equal(await page.textContent('#scope'), 'read:user user:email read:org', 'the switches became scopes');
  await page.click('#go');
  await page.waitForURL((url) => url.origin === APP_ORIGIN);

  const back = new URL(page.url());
  assert.equal(back.searchParams.get('state'), 'st-gh');
  const tokens = await (await issuer.fetch('/oauth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'authorization_code', client_id: 'demo-spa', code: back.searchParams.get('code'), redirect_uri: `${APP_ORIGIN}/callback`, code_verifier: verifier }),
  })).json();
  const jwks = createRemoteJWKSet(new URL(`${issuer.issuer}/.well-known/jwks.json`));
  const { payload } = await jwtVerify(tokens.id_token, jwks, { issuer: issuer.issuer, audience: 'demo-spa' });
  assert.equal(payload.sub, 'github|583231', "GitHub's numeric id");
  assert.equal(payload.email, 'octocat@github.test', 'the primary email, not the public one');
  assert.equal(payload.email_verified, true);
  assert.equal(payload.nickname, 'octocat');
  assert.equal(payload.name, 'The Octocat');
  assert.equal(payload[`${NS}/company`], '@github', 'a rule read the GitHub profile');

  // The Worker's calls to GitHub: the code, then the user and the emails, each with a
  // User-Agent (GitHub's API refuses a call without one).
  const calls = seen.filter((s) => /^POST \/login\/oauth\/access_token|^GET \/api\//.test(s));
  assert.deepEqual(calls.map((s) => s.split(' ').slice(0, 2).join(' ')), [
    'POST /login/oauth/access_token', 'GET /api/v3/user', 'GET /api/v3/user/emails',
  ]);
  assert.ok(calls.every((s) => !s.endsWith(' -')), calls.join('\n'));

  const { data: user } = await management.users.get({ id: 'github|583231' });
  assert.equal(user.identities[0].provider, 'github');
  assert.equal(user.identities[0].isSocial, true);
  assert.equal(user.identities[0].profileData.login, 'octocat');
  // The connection keeps GitHub's token; demo-admin holds read:user_idp_tokens, as Auth0's
  // SDK user type expects it.
  assert.equal(user.identities[0].access_token, 'gho_e2e');
  await page.close();
});

test('a GitHub answer replayed in the same browser, or a code GitHub refuses, signs no one in', async () => {
  const page = await browser.newPage();
  const { challenge } = pkce();
  const query = new URLSearchParams({
    client_id: 'demo-spa', response_type: 'code', redirect_uri: `${APP_ORIGIN}/callback`,
    scope: 'openid', state: 'st-r', code_challenge: challenge, code_challenge_method: 'S256', connection: 'github',
  });
  await page.goto(`${issuer.issuer}/authorize?${query}`);
  await page.waitForURL((url) => url.origin === HUB);
  const answer = await page.getAttribute('#go', 'href');
  await page.click('#go');
  await page.waitForURL((url) => url.origin === APP_ORIGIN);
  assert.ok(new URL(page.url()).searchParams.get('code'));

  // The same answer again: the browser's binding went with the first, so our own error page.
  const replay = await page.goto(answer);
  assert.equal(replay.status(), 403);
  assert.equal(new URL(page.url()).origin, issuer.issuer, 'our page; the client is not called');

  await page.close();

  // An answer whose code GitHub refuses (200 and an error) reaches the client as
  // access_denied. (Another browser: this one has a session now.)
  const other = await browser.newPage();
  await other.goto(`${issuer.issuer}/authorize?${query}`);
  await other.waitForURL((url) => url.origin === HUB);
  const forged = new URL(await other.getAttribute('#go', 'href'));
  forged.searchParams.set('code', 'not-a-code-github-gave');
  await other.goto(forged.href);
  await other.waitForURL((url) => url.origin === APP_ORIGIN);
  const refused = new URL(other.url()).searchParams;
  assert.equal(refused.get('error'), 'access_denied');
  assert.match(refused.get('error_description'), /bad_verification_code/);
  assert.equal(refused.get('state'), 'st-r');
  await other.close();
});
