// Auth0's Node SDK (`auth0` 4.x, its AuthenticationClient) against the issuer on workerd with
// D1, with nothing changed but the domain: the password-realm grant, client credentials,
// refresh, and the SDK's own ID token validator (RS256 only, `iss` = `https://<domain>/`). The
// issuer is `https://issuer.test/`, reached through Miniflare (the SDK's `fetch` option); the
// validator's JWKS is read the same way.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { AuthenticationClient } from 'auth0';
import { createLocalJWKSet } from 'jose';
import { fetchThrough, startIssuer, APP, M2M, USER } from './harness.mjs';

const DOMAIN = 'issuer.test';
const API = 'https://api.example.com';
let issuer;
let through;

before(async () => {
  issuer = await startIssuer({ issuer: `https://${DOMAIN}/` });
  through = fetchThrough(issuer);
});
after(async () => {
  await issuer?.mf.dispose();
});

const client = (id, secret) => new AuthenticationClient({ domain: DOMAIN, clientId: id, clientSecret: secret, fetch: through });

test('the password-realm grant, refresh and the SDK ID token validator', async () => {
  const auth = client(APP.id, APP.secret);
  // The seed's demo-app as it is: the SDK validates only RS256 ID tokens, which it gets.
  // The SDK's own validator, its JWKS read through Miniflare instead of from the network.
  const jwks = await (await issuer.fetch('/.well-known/jwks.json')).json();
  const validator = auth.oauth.idTokenValidator;
  validator.jwks = createLocalJWKSet(jwks);

  const { data } = await auth.oauth.passwordGrant({
    username: USER.email,
    password: USER.password,
    realm: 'Username-Password-Authentication',
    scope: 'openid profile email offline_access read:data',
    audience: API,
  });
  assert.ok(data.access_token && data.id_token && data.refresh_token);
  const refreshed = await auth.oauth.refreshTokenGrant({ refresh_token: data.refresh_token });
  assert.ok(refreshed.data.access_token);
  assert.notEqual(refreshed.data.refresh_token, data.refresh_token);

  // A validator that expects another issuer refuses the same ID token: the check is real.
  const strict = new validator.constructor({ domain: 'other.test', clientId: APP.id });
  strict.jwks = createLocalJWKSet(jwks);
  await assert.rejects(strict.validate(data.id_token), /Issuer \(iss\) claim mismatch/);
});

test('client credentials through the SDK', async () => {
  const { data } = await client(M2M.id, M2M.secret).oauth.clientCredentialsGrant({ audience: API });
  assert.equal(data.token_type, 'Bearer');
  assert.equal(data.scope, 'read:data');
});
