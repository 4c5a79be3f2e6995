// Browser sign-in end to end on workerd with real D1, driven by openid-client: discovery, an
// authorization URL with PKCE and nonce, the hosted login form posted as a browser posts it,
// the code exchanged (openid-client checks iss, state, nonce and the ID token's signature),
// /userinfo and a refresh; then the attacks: code replay, parallel redemptions, an
// unregistered redirect_uri, prompt=none.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as oidc from 'openid-client';
import { hiddenFields, startIssuer, ISSUER, USER } from './harness.mjs';

const SPA = 'demo-spa';
const CALLBACK = 'http://127.0.0.1:3000/callback';
const API = 'https://api.example.com';
let issuer;
let config;

before(async () => {
  issuer = await startIssuer();
  config = await oidc.discovery(new URL(ISSUER), SPA, undefined, oidc.None(), {
    execute: [oidc.allowInsecureRequests],
    [oidc.customFetch]: (url, init) => issuer.mf.dispatchFetch(url, init),
  });
});
after(async () => {
  await issuer?.mf.dispose();
});

/** The cookies a response sets, as a Cookie header value. */
function cookies(res) {
  return res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
}

/** Opens the authorization URL, posts the login form as a browser does; returns the redirect. */
async function signIn(url, { email = USER.email, password = USER.password, cookie = '' } = {}) {
  const page = await issuer.mf.dispatchFetch(url, { redirect: 'manual', headers: cookie ? { cookie } : {} });
  if (page.status === 302) return { res: page, session: cookie };
  assert.equal(page.status, 200, await page.clone().text());
  const html = await page.text();
  const form = hiddenFields(html);
  form.set('email', email);
  form.set('password', password);
  const res = await issuer.fetch('/u/login', {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookies(page) },
    body: form.toString(),
  });
  return { res, session: cookies(res) };
}

async function authorizationUrl(extra = {}) {
  const verifier = oidc.randomPKCECodeVerifier();
  const params = {
    redirect_uri: CALLBACK,
    scope: 'openid profile email offline_access read:data',
    audience: API,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce: oidc.randomNonce(),
    state: oidc.randomState(),
    ...extra,
  };
  return { url: oidc.buildAuthorizationUrl(config, params), verifier, params };
}

function exchange(location, { verifier, params }) {
  return oidc.authorizationCodeGrant(config, new URL(location), {
    pkceCodeVerifier: verifier,
    expectedNonce: params.nonce,
    expectedState: params.state,
    idTokenExpected: true,
  });
}

test('discovery, login form, code with PKCE, tokens, userinfo and refresh through openid-client', async () => {
  assert.equal(config.serverMetadata().authorization_endpoint, `${ISSUER}/authorize`);
  const request = await authorizationUrl();
  const { res, session } = await signIn(request.url);
  assert.equal(res.status, 303, await res.text());
  assert.match(session, /__Host-session=/);
  const location = res.headers.get('location');
  assert.ok(location.startsWith(`${CALLBACK}?`), location);

  const tokens = await exchange(location, request);
  const claims = tokens.claims();
  assert.equal(claims.sub, USER.id);
  assert.equal(claims.nonce, request.params.nonce);
  assert.ok(claims.sid && claims.at_hash && claims.auth_time);
  assert.ok(tokens.refresh_token);

  const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
  assert.equal(info.email, USER.email);

  const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token);
  assert.ok(refreshed.access_token && refreshed.refresh_token !== tokens.refresh_token);

  // Single sign-on: the session cookie answers the next authorization at once.
  const second = await authorizationUrl();
  const sso = await signIn(second.url, { cookie: session });
  assert.equal(sso.res.status, 302);
  const again = await exchange(sso.res.headers.get('location'), second);
  assert.equal(again.claims().sid, claims.sid);
});

test('a replayed code is invalid_grant and the refresh token it gave stops working', async () => {
  const request = await authorizationUrl();
  const { res } = await signIn(request.url);
  const location = res.headers.get('location');
  const tokens = await exchange(location, request);
  await assert.rejects(exchange(location, request), (e) => e.error === 'invalid_grant');
  await assert.rejects(oidc.refreshTokenGrant(config, tokens.refresh_token), (e) => e.error === 'invalid_grant');
});

test('20 parallel redemptions of one code: exactly one 200, the others invalid_grant, and the family dies', async () => {
  const request = await authorizationUrl();
  const { res } = await signIn(request.url);
  const code = new URL(res.headers.get('location')).searchParams.get('code');
  const form = new URLSearchParams({
    grant_type: 'authorization_code',
    client_id: SPA,
    code,
    redirect_uri: CALLBACK,
    code_verifier: request.verifier,
  }).toString();
  const answers = await Promise.all(
    Array.from({ length: 20 }, () =>
      issuer.fetch('/oauth/token', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form }),
    ),
  );
  const statuses = answers.map((r) => r.status);
  assert.equal(statuses.filter((s) => s === 200).length, 1, statuses.join(','));
  const bodies = await Promise.all(answers.map((r) => r.json()));
  for (const [i, body] of bodies.entries()) {
    if (statuses[i] !== 200) assert.equal(body.error, 'invalid_grant', JSON.stringify(body));
  }
  // A lost redemption counts as a replay: the winner's refresh token is dead.
  const winner = bodies[statuses.indexOf(200)];
  assert.ok(winner.refresh_token, 'offline_access gave a refresh token');
  await assert.rejects(oidc.refreshTokenGrant(config, winner.refresh_token), (e) => e.error === 'invalid_grant');
});

test('an unregistered redirect_uri gets the error page, never a redirect', async () => {
  const { url } = await authorizationUrl({ redirect_uri: 'http://127.0.0.1:3000/callback/' });
  const res = await issuer.mf.dispatchFetch(url, { redirect: 'manual' });
  assert.equal(res.status, 400);
  assert.equal(res.headers.get('location'), null);
  assert.match(await res.text(), /redirect_uri is not registered/);
});

test('prompt=none: login_required without a session, a code with one', async () => {
  const none = await authorizationUrl({ prompt: 'none' });
  const res = await issuer.mf.dispatchFetch(none.url, { redirect: 'manual' });
  assert.equal(res.status, 302);
  const back = new URL(res.headers.get('location')).searchParams;
  assert.equal(back.get('error'), 'login_required');
  assert.equal(back.get('iss'), ISSUER);

  const first = await authorizationUrl();
  const { session } = await signIn(first.url);
  const silent = await authorizationUrl({ prompt: 'none' });
  const withSession = await issuer.mf.dispatchFetch(silent.url, { redirect: 'manual', headers: { cookie: session } });
  assert.equal(withSession.status, 302);
  const tokens = await exchange(withSession.headers.get('location'), silent);
  assert.equal(tokens.claims().sub, USER.id);
});

test('a wrong password shows the form again with a message that names no account', async () => {
  const request = await authorizationUrl();
  const { res } = await signIn(request.url, { password: 'not the password' });
  assert.equal(res.status, 400);
  assert.match(await res.text(), /Wrong email or password\./);
  const unknown = await signIn((await authorizationUrl()).url, { email: 'nobody@example.com', password: 'x' });
  assert.match(await unknown.res.text(), /Wrong email or password\./);
});

test('logout with the ID token as hint ends the session in D1: the old cookie no longer signs anyone in', async () => {
  const request = await authorizationUrl();
  const { res: signedIn, session } = await signIn(request.url);
  const tokens = await exchange(signedIn.headers.get('location'), request);
  // Without a hint the user is asked first: nothing ends on a bare link.
  const bare = oidc.buildEndSessionUrl(config, { post_logout_redirect_uri: 'http://127.0.0.1:3000/', state: 'bye' });
  const asked = await issuer.mf.dispatchFetch(bare, { redirect: 'manual', headers: { cookie: session } });
  assert.equal(asked.status, 200);
  assert.match(await asked.text(), /Sign out\?/);
  assert.doesNotMatch(asked.headers.getSetCookie().join(), /__Host-session/);

  const url = oidc.buildEndSessionUrl(config, {
    id_token_hint: tokens.id_token,
    post_logout_redirect_uri: 'http://127.0.0.1:3000/',
    state: 'bye',
  });
  const res = await issuer.mf.dispatchFetch(url, { redirect: 'manual', headers: { cookie: session } });
  assert.equal(res.status, 302);
  assert.equal(res.headers.get('location'), 'http://127.0.0.1:3000/?state=bye');
  assert.match(res.headers.getSetCookie().join(), /__Host-session=;.*Max-Age=0/);
  const none = await authorizationUrl({ prompt: 'none' });
  const after = await issuer.mf.dispatchFetch(none.url, { redirect: 'manual', headers: { cookie: session } });
  assert.equal(new URL(after.headers.get('location')).searchParams.get('error'), 'login_required');
});

test('CORS: the token endpoint answers the SPA origin, preflight included, and no other', async () => {
  const preflight = (origin) =>
    issuer.fetch('/oauth/token', {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
  const ok = await preflight('http://127.0.0.1:3000');
  assert.equal(ok.status, 204);
  assert.equal(ok.headers.get('access-control-allow-origin'), 'http://127.0.0.1:3000');
  assert.match(ok.headers.get('access-control-allow-methods'), /POST/);
  const other = await preflight('http://127.0.0.1:3001');
  assert.equal(other.headers.get('access-control-allow-origin'), null);
  // Discovery and the JWKS are public documents: any origin reads them.
  for (const path of ['/.well-known/jwks.json', '/.well-known/openid-configuration']) {
    const doc = await issuer.fetch(path, { headers: { origin: 'https://any.example' } });
    assert.equal(doc.headers.get('access-control-allow-origin'), '*', path);
  }
});

test('sign-up on the hosted page creates the user in D1 and signs them in', async () => {
  const request = await authorizationUrl({ screen_hint: 'signup' });
  const page = await issuer.mf.dispatchFetch(request.url, { redirect: 'manual' });
  const html = await page.text();
  assert.match(html, /action="\/u\/signup"/);
  const form = hiddenFields(html);
  form.set('email', 'new.user@example.com');
  form.set('password', 'a long enough password');
  const res = await issuer.fetch('/u/signup', {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookies(page) },
    body: form.toString(),
  });
  assert.equal(res.status, 303, await res.clone().text());
  const tokens = await exchange(res.headers.get('location'), request);
  const { results } = await issuer.db.prepare('SELECT user_id, email FROM users WHERE lower(email) = ?1').bind('new.user@example.com').all();
  assert.equal(results.length, 1);
  assert.equal(tokens.claims().sub, results[0].user_id);
});
