// Second factors for the password grant, on workerd with D1, as Auth0's SDKs use them: the
// `auth0` SDK's password-realm grant answers `mfa_required`; Auth0's `@auth0/auth0-auth-js`
// MfaClient (what auth0-spa-js wraps) enrolls an authenticator app, lists it and redeems codes
// made by an independent TOTP library (`otpauth`) from the secret the issuer gave. The
// Guardian settings are changed through the management API of the running Worker.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { AuthenticationClient } from 'auth0';
import { AuthClient } from '@auth0/auth0-auth-js';
import { TOTP, Secret } from 'otpauth';
import { createLocalJWKSet, decodeJwt } from 'jose';
import { fetchThrough, startIssuer, tokenRequest, APP, M2M, USER } from './harness.mjs';
import { ADMIN, userPath } from './management.mjs';

const DOMAIN = 'issuer.test';
const REALM = 'Username-Password-Authentication';
let issuer;
let through;
let admin;

before(async () => {
  issuer = await startIssuer({ issuer: `https://${DOMAIN}/` });
  through = fetchThrough(issuer);
  jwks = createLocalJWKSet(await (await issuer.fetch('/.well-known/jwks.json')).json());
  const form = { grant_type: 'client_credentials', audience: `https://${DOMAIN}/api/v2/` };
  const { access_token: token } = await (await tokenRequest(issuer, form, ADMIN)).json();
  assert.ok(token, 'an admin token');
  admin = async (method, path, body) => {
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const res = await issuer.fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null };
  };
});
after(async () => {
  await issuer?.mf.dispose();
});

let jwks;
/** The `auth0` SDK's client of demo-app; its ID token validator reads the JWKS through Miniflare. */
function sdk() {
  const auth = new AuthenticationClient({ domain: DOMAIN, clientId: APP.id, clientSecret: APP.secret, fetch: through });
  auth.oauth.idTokenValidator.jwks = jwks;
  return auth;
}
const authJs = () => new AuthClient({ domain: DOMAIN, clientId: APP.id, clientSecret: APP.secret, customFetch: through });

/** An SDK error that carries the issuer's OAuth `error` code. */
const refusedAs = (code) => (e) => e.cause?.error === code;

/** The password-realm grant through the `auth0` SDK: the tokens, or the SDK's error. */
async function signIn() {
  const asked = sdk().oauth.passwordGrant({ username: USER.email, password: USER.password, realm: REALM, scope: 'openid profile email' });
  return asked.then(({ data }) => ({ data }), (error) => ({ error }));
}

/** An `mfa_required` answer's MFA token, as the SDK reports it. */
async function mfaToken() {
  const { data, error } = await signIn();
  assert.equal(data, undefined, 'the password alone gives no tokens');
  assert.equal(error.statusCode, 403);
  assert.equal(error.error, 'mfa_required');
  const body = JSON.parse(error.body);
  assert.ok(body.mfa_token);
  return body.mfa_token;
}

test('an authenticator app: enrolled through the SDK, its codes redeemed once, a recovery code spent', async () => {
  // Off by default: the password alone signs in.
  assert.ok((await signIn()).data?.access_token);
  assert.equal((await admin('PUT', '/api/v2/guardian/factors/otp', { enabled: true })).status, 200);
  assert.equal((await admin('PUT', '/api/v2/guardian/factors/recovery-code', { enabled: true })).status, 200);
  assert.deepEqual((await admin('PUT', '/api/v2/guardian/policies', ['all-applications'])).body, ['all-applications']);

  // The next sign-in must enroll: the Worker reads the new policy without a restart.
  const mfa = authJs().mfa;
  const first = await mfaToken();
  assert.deepEqual(await mfa.listAuthenticators({ mfaToken: first }), []);
  const enrolled = await mfa.enrollAuthenticator({ authenticatorTypes: ['otp'], mfaToken: first });
  assert.equal(enrolled.authenticatorType, 'otp');
  assert.match(enrolled.barcodeUri, /^otpauth:\/\/totp\//);
  assert.equal(enrolled.recoveryCodes.length, 10);
  // The app is made from the URI the issuer gave, as a phone would scan it.
  const uri = new URL(enrolled.barcodeUri);
  assert.equal(uri.searchParams.get('secret'), enrolled.secret);
  const app = new TOTP({ secret: Secret.fromBase32(enrolled.secret), algorithm: 'SHA1', digits: 6, period: 30 });

  // A wrong code is refused and spends nothing; the right one confirms the app and signs in.
  const wrong = String((Number(app.generate()) + 1) % 1_000_000).padStart(6, '0');
  await assert.rejects(mfa.verify({ mfaToken: first, factorType: 'otp', otp: wrong }), refusedAs('invalid_grant'));
  const now = Date.now();
  const code = app.generate({ timestamp: now });
  const tokens = await mfa.verify({ mfaToken: first, factorType: 'otp', otp: code });
  assert.ok(tokens.accessToken && tokens.idToken);
  assert.deepEqual(decodeJwt(tokens.idToken).amr, ['pwd', 'otp', 'mfa']);
  assert.equal(decodeJwt(tokens.idToken).sub, USER.id);
  // The MFA token is spent.
  await assert.rejects(mfa.verify({ mfaToken: first, factorType: 'otp', otp: app.generate({ timestamp: now + 30_000 }) }), refusedAs('invalid_grant'));

  // The next sign-in is challenged: the app is listed, and associating another one is refused.
  const second = await mfaToken();
  const listed = await mfa.listAuthenticators({ mfaToken: second });
  assert.deepEqual(listed.map((a) => [a.authenticatorType, a.active]), [['otp', true], ['recovery-code', true]]);
  await assert.rejects(mfa.enrollAuthenticator({ authenticatorTypes: ['otp'], mfaToken: second }), (e) => (e.statusCode ?? e.cause?.statusCode) === 403 && e.message === 'User is already enrolled.');
  // The code already used is refused (its time step is spent); the next step's code works.
  await assert.rejects(mfa.verify({ mfaToken: second, factorType: 'otp', otp: code }), refusedAs('invalid_grant'));
  const again = await mfa.verify({ mfaToken: second, factorType: 'otp', otp: app.generate({ timestamp: now + 30_000 }) });
  assert.ok(again.accessToken);

  // A lost phone: a recovery code signs in once, and says so in `amr`.
  const third = await mfaToken();
  const recovered = await mfa.verify({ mfaToken: third, factorType: 'recovery-code', recoveryCode: enrolled.recoveryCodes[0] });
  assert.deepEqual(decodeJwt(recovered.idToken).amr, ['pwd', 'mfa']);
  const fourth = await mfaToken();
  await assert.rejects(mfa.verify({ mfaToken: fourth, factorType: 'recovery-code', recoveryCode: enrolled.recoveryCodes[0] }), refusedAs('invalid_grant'));

  // The admin sees the methods, and a reset means the next sign-in enrolls again.
  const methods = await admin('GET', `${userPath(USER.id)}/authentication-methods`);
  assert.deepEqual(methods.body.map((m) => m.type).sort(), ['recovery-code', 'totp']);
  assert.equal((await admin('DELETE', `${userPath(USER.id)}/authenticators`)).status, 204);
  assert.deepEqual(await mfa.listAuthenticators({ mfaToken: await mfaToken() }), []);

  // Policy off again: the password alone signs in.
  assert.equal((await admin('PUT', '/api/v2/guardian/factors/otp', { enabled: false })).status, 200);
  assert.ok((await signIn()).data?.access_token);
});

test('an MFA token is bound to the client it was given to', async () => {
  assert.equal((await admin('PUT', '/api/v2/guardian/factors/otp', { enabled: true })).status, 200);
  assert.equal((await admin('PUT', '/api/v2/guardian/policies', ['all-applications'])).status, 200);
  const token = await mfaToken();
  // Another client of the tenant, allowed the same grants, may not redeem demo-app's token.
  const made = await admin('POST', '/api/v2/clients', {
    name: 'Another first-party app',
    app_type: 'regular_web',
    grant_types: ['password', 'http://auth0.com/oauth/grant-type/mfa-otp'],
  });
  assert.equal(made.status, 201);
  const other = new AuthClient({ domain: DOMAIN, clientId: made.body.client_id, clientSecret: made.body.client_secret, customFetch: through });
  await assert.rejects(other.mfa.verify({ mfaToken: token, factorType: 'otp', otp: '000000' }), refusedAs('invalid_grant'));
  // demo-app's own redemption of it is judged on the code alone.
  await assert.rejects(authJs().mfa.verify({ mfaToken: token, factorType: 'otp', otp: '000000' }), refusedAs('invalid_grant'));
  assert.equal((await admin('PUT', '/api/v2/guardian/factors/otp', { enabled: false })).status, 200);
});

test('a rule requires a second factor for one client only', async () => {
  assert.equal((await admin('PUT', '/api/v2/guardian/factors/otp', { enabled: true })).status, 200);
  assert.equal((await admin('PUT', '/api/v2/guardian/policies', [])).status, 200);
  const other = await admin('POST', '/api/v2/clients', {
    name: 'A first-party app without the rule',
    app_type: 'regular_web',
    grant_types: ['password'],
  });
  assert.equal(other.status, 201);
  const passwordOf = async (id, secret) => {
    const res = await tokenRequest(issuer, { grant_type: 'password', username: USER.email, password: USER.password, scope: 'openid' }, { id, secret });
    return [res.status, (await res.json()).error];
  };
  assert.deepEqual(await passwordOf(APP.id, APP.secret), [200, undefined]);
  const rule = await admin('POST', '/api/v2/rules', {
    name: 'Second factor for demo-app',
    trigger: 'post-login',
    multifactor: true,
    conditions: { client_ids: [APP.id] },
  });
  assert.equal(rule.status, 201);
  // The running Worker sees the new rule at once: demo-app's sign-in needs a second factor,
  // through the SDK too; the other client's does not.
  assert.deepEqual(await passwordOf(APP.id, APP.secret), [403, 'mfa_required']);
  await mfaToken();
  assert.deepEqual(await passwordOf(other.body.client_id, other.body.client_secret), [200, undefined]);
  assert.equal((await admin('DELETE', `/api/v2/rules/${rule.body.id}`)).status, 204);
  assert.deepEqual(await passwordOf(APP.id, APP.secret), [200, undefined]);
  assert.equal((await admin('PUT', '/api/v2/guardian/factors/otp', { enabled: false })).status, 200);
});
