// Calls the management API as an admin script does: a client_credentials token of the seed's
// management client, then JSON over HTTP.
import { ManagementClient } from 'auth0';
import { ISSUER, tokenRequest, passwordRequest } from './harness.mjs';

export const MGMT = `${ISSUER}/api/v2/`;
export const ADMIN = { id: 'demo-admin', secret: 'dev-only-demo-admin-secret' };

/** A management token of the seed's admin client, with `scope` (all its scopes if none). */
export async function adminToken(issuer, scope) {
  // The management API of the issuer started (on a port, it is that origin's).
  const audience = issuer.issuer === ISSUER ? MGMT : `${issuer.issuer.replace(/\/$/, '')}/api/v2/`;
  const form = { grant_type: 'client_credentials', audience, ...(scope ? { scope } : {}) };
  const body = await (await tokenRequest(issuer, form, ADMIN)).json();
  if (!body.access_token) throw new Error(`no admin token: ${JSON.stringify(body)}`);
  return body.access_token;
}

/** The demo user's own token for the management API. */
export async function userToken(issuer, scope = 'read:current_user update:current_user_metadata') {
  const body = await (await passwordRequest(issuer, { audience: MGMT, scope })).json();
  if (!body.access_token) throw new Error(`no user token: ${JSON.stringify(body)}`);
  return body.access_token;
}

/** A client of the management API with `token`: `call(method, path, body)` → {status, body, headers}. */
export function managementClient(issuer, token) {
  return async (method, path, body) => {
    const headers = { ...(token ? { authorization: `Bearer ${token}` } : {}) };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await issuer.fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
  };
}

export const userPath = (id) => `/api/v2/users/${encodeURIComponent(id)}`;

/** The `auth0` SDK's ManagementClient of the seed's admin client, against `issuer` (the SDK
 * builds https://<domain>/…; a test issuer is plain http on the same host). */
export function sdkManagement(issuer) {
  return new ManagementClient({
    domain: new URL(issuer.issuer).host,
    clientId: ADMIN.id,
    clientSecret: ADMIN.secret,
    audience: issuer.issuer === ISSUER ? MGMT : `${issuer.issuer}/api/v2/`,
    fetch: (url, init) => issuer.mf.dispatchFetch(String(url).replace(/^https:/, 'http:'), init),
  });
}
