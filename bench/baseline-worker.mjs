// The baseline `make bench` compares the issuer with: the least a token endpoint can do on a
// Worker. It parses the form, checks an HTTP Basic secret by its SHA-256, and signs an
// RFC 9068 ES256 access token with WebCrypto. No storage, no rules, no refresh tokens.
const CLIENT_ID = 'baseline-m2m';
const SECRET_SHA256 = 'gyMSK40ShrAeFZ51ZT9VOqolBdakferhitc_CMJPa0k'; // of 'baseline-secret'
const ISSUER = 'http://baseline.test/';

const enc = new TextEncoder();
const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
let key;

async function signingKey() {
  key ??= (await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify'])).privateKey;
  return key;
}

function refuse(status, error) {
  return Response.json({ error }, { status, headers: { 'cache-control': 'no-store' } });
}

export default {
  async fetch(request) {
    if (request.method !== 'POST') return refuse(405, 'invalid_request');
    const form = new URLSearchParams(await request.text());
    if (form.get('grant_type') !== 'client_credentials') return refuse(400, 'unsupported_grant_type');
    const auth = request.headers.get('authorization') ?? '';
    const [id, secret] = atob(auth.replace(/^Basic /, '')).split(':');
    const digest = b64url(await crypto.subtle.digest('SHA-256', enc.encode(secret ?? '')));
    if (id !== CLIENT_ID || digest !== SECRET_SHA256) return refuse(401, 'invalid_client');
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(enc.encode(JSON.stringify({ alg: 'ES256', typ: 'at+jwt', kid: 'baseline' })));
    const claims = {
      iss: ISSUER, sub: `${id}@clients`, aud: form.get('audience') ?? 'https://api.example.com',
      client_id: id, iat: now, exp: now + 3600, jti: crypto.randomUUID(), scope: '',
    };
    const input = `${header}.${b64url(enc.encode(JSON.stringify(claims)))}`;
    const sig = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, await signingKey(), enc.encode(input));
    return Response.json(
      { access_token: `${input}.${b64url(sig)}`, token_type: 'Bearer', expires_in: 3600 },
      { headers: { 'cache-control': 'no-store' } },
    );
  },
};
