// The holes attack testing found, each pinned on workerd with real D1 and KV: who may hold the
// management API's scopes, the refresh-family race, the lockout under a burst, request framing
// over a raw socket, and the smaller defects. Tokens are verified or made with `jose`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { SignJWT, decodeJwt } from 'jose';
import { startIssuer, tokenRequest, passwordRequest, refreshRequest, basic, currentSigningKey, lowS, APP, USER } from './harness.mjs';

const PORT = 18800 + Math.floor(Math.random() * 100);
const FULL = { scope: 'openid profile email offline_access read:data' };
let issuer;
let mgmt;

before(async () => {
  // Served on a loopback port too, for the raw-socket framing cases; BENCH exposes the
  // isolate's PBKDF2 counter.
  issuer = await startIssuer({ port: PORT, bindings: { BENCH: '1' } });
  mgmt = `${issuer.issuer}/api/v2/`;
});
after(async () => {
  await issuer?.mf.dispose();
});

async function json(resPromise) {
  const res = await resPromise;
  return { status: res.status, headers: res.headers, body: await res.json() };
}

function call(method, path, token, body = '{}') {
  return issuer.fetch(path, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  });
}

const ROUTES = [
  ['PUT', '/api/v2/rules/rul_probe', 'update:rules'],
  ['POST', '/api/v2/claims/explain', 'read:claims'],
];

/** A user access token for the management API claiming every scope, signed with the issuer's
 * own ES256 key (opened from D1 with the key-encryption key): what no grant may issue. */
async function forgedUserToken() {
  const { kid, key } = await currentSigningKey(issuer);
  return lowS(await new SignJWT({ client_id: APP.id, scope: ROUTES.map((r) => r[2]).join(' '), gty: 'password' })
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid })
    .setIssuer(issuer.issuer)
    .setSubject(USER.id)
    .setAudience(mgmt)
    .setIssuedAt()
    .setExpirationTime('10m')
    .setJti('forged')
    .sign(key));
}

test('a user asking for management scopes gets only self-service ones, and no management route', async () => {
  const granted = await json(passwordRequest(issuer, { audience: mgmt, scope: 'openid read:claims update:rules read:current_user' }));
  assert.equal(granted.status, 200, JSON.stringify(granted.body));
  assert.equal(granted.body.scope, 'openid read:current_user');
  assert.equal(decodeJwt(granted.body.access_token).scope, 'openid read:current_user');
  // First make sure a signing key exists, then a token that claims everything.
  const forged = await forgedUserToken();
  for (const token of [granted.body.access_token, forged]) {
    for (const [method, path, scope] of ROUTES) {
      const res = await json(call(method, path, token, JSON.stringify({ client_id: 'demo-m2m', name: 'x', trigger: 'post-login', assignments: [{ target: 'access_token', claim: 'https://x.example/y', value: 1 }] })));
      assert.equal(res.status, 403, `${method} ${path}: ${JSON.stringify(res.body)}`);
      const challenge = res.headers.get('www-authenticate');
      assert.match(challenge, /^Bearer realm="[^"]+", error="insufficient_scope"/);
      assert.ok(challenge.includes(`scope="${scope}"`), challenge);
    }
  }
  const { results } = await issuer.db.prepare("SELECT count(*) AS n FROM rules WHERE rule_id = 'rul_probe'").all();
  assert.equal(results[0].n, 0, 'nothing was saved');
});

test('management 401s carry Bearer challenges and errors speak JSON, not Rust', async () => {
  const none = await json(call('PUT', '/api/v2/rules/r1', null));
  assert.equal(none.status, 401);
  assert.equal(none.headers.get('www-authenticate'), `Bearer realm="${issuer.issuer}"`);
  const bad = await json(call('PUT', '/api/v2/rules/r1', 'x.y.z'));
  assert.equal(bad.status, 401);
  assert.match(bad.headers.get('www-authenticate'), /^Bearer realm="[^"]+", error="invalid_token", error_description="/);
  const admin = await json(tokenRequest(issuer, { grant_type: 'client_credentials' }, { id: 'demo-admin', secret: 'dev-only-demo-admin-secret' }));
  const res = await json(call('PUT', '/api/v2/rules/r1', admin.body.access_token, '"x"'));
  assert.equal(res.status, 400);
  assert.equal(res.body.message, 'Payload validation error: the body is {…}: expected an object');
});

test('20 rounds of 20 parallel refreshes then a replay: no live token left in the family', async () => {
  for (let round = 0; round < 20; round++) {
    const first = (await json(passwordRequest(issuer, FULL))).body;
    const results = await Promise.all(Array.from({ length: 20 }, () => json(refreshRequest(issuer, first.refresh_token))));
    const won = results.filter((r) => r.status === 200);
    assert.equal(won.length, 1, `round ${round}: ${won.length} successes`);
    // Right after the burst, before any replay: every loser was refused as a reuse, which
    // revoked the family, so nothing in it is live and the winner's new token is refused.
    for (const lost of results.filter((r) => r.status !== 200)) {
      assert.equal(lost.status, 400, `round ${round}: ${JSON.stringify(lost.body)}`);
      assert.equal(lost.body.error, 'invalid_grant', `round ${round}`);
    }
    const live = async () => {
      const { results: rows } = await issuer.db
        .prepare(
          'SELECT count(*) AS n FROM refresh_tokens t JOIN refresh_families f ON f.family_id = t.family_id ' +
            'WHERE f.family_id = (SELECT family_id FROM refresh_tokens WHERE token_hash = ?1) AND f.revoked_at IS NULL',
        )
        .bind(await sha256(first.refresh_token))
        .all();
      return rows[0].n;
    };
    assert.equal(await live(), 0, `round ${round}: the family is alive after the burst`);
    const again = await json(refreshRequest(issuer, won[0].body.refresh_token));
    assert.equal(again.status, 400, `round ${round}: the winner's token still works`);
    assert.equal(again.body.error, 'invalid_grant', `round ${round}`);
    // Then a replay of the first token changes nothing.
    const replay = await json(refreshRequest(issuer, first.refresh_token));
    assert.equal(replay.body.error, 'invalid_grant');
    assert.equal(await live(), 0, `round ${round}: the family is alive after the replay`);
  }
});

async function sha256(text) {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text));
  return Buffer.from(digest).toString('base64url');
}

test('a narrowed refresh narrows the access token only; the next refresh has the whole grant', async () => {
  const first = (await json(passwordRequest(issuer, FULL))).body;
  const narrow = await json(refreshRequest(issuer, first.refresh_token, { scope: 'openid' }));
  assert.equal(narrow.status, 200, JSON.stringify(narrow.body));
  assert.equal(narrow.body.scope, 'openid');
  assert.ok(narrow.body.refresh_token, 'a new refresh token, though offline_access was not asked for');
  const { results } = await issuer.db.prepare('SELECT scope FROM refresh_tokens WHERE token_hash = ?1').bind(await sha256(narrow.body.refresh_token)).all();
  assert.equal(results[0].scope, FULL.scope);
  const full = await json(refreshRequest(issuer, narrow.body.refresh_token));
  assert.equal(full.body.scope, FULL.scope);
});

test('40 parallel wrong passwords: at most 10 are verified', async () => {
  const counter = async () => (await (await issuer.fetch('/__bench/counters')).json()).pbkdf2;
  const before = await counter();
  const ip = '198.51.100.200';
  const results = await Promise.all(Array.from({ length: 40 }, () => json(passwordRequest(issuer, { password: 'wrong' }, { ip }))));
  const verified = (await counter()) - before;
  assert.ok(results.every((r) => r.body.error === 'invalid_grant'));
  assert.ok(verified <= 10, `${verified} passwords verified`);
  assert.equal(results.filter((r) => r.body.error_description === 'Wrong email or password.').length, 9);
  const right = await json(passwordRequest(issuer, {}, { ip }));
  assert.match(right.body.error_description, /blocked/);
  assert.equal((await counter()) - before, verified, 'the locked right password was not verified');
});

/** Sends raw bytes to the Worker's port; resolves with the response text, or after `ms`. */
function raw(bytes, { halfClose = false, ms = 3000 } = {}) {
  return new Promise((resolve) => {
    const socket = net.connect(PORT, '127.0.0.1');
    let text = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(text);
    }, ms);
    socket.on('data', (d) => {
      text += d.toString();
      if (/\r\n\r\n/.test(text) && /content-length: *(\d+)/i.test(text)) {
        const [head, body = ''] = text.split('\r\n\r\n');
        if (body.length >= Number(head.match(/content-length: *(\d+)/i)[1])) {
          clearTimeout(timer);
          socket.destroy();
          resolve(text);
        }
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
    socket.write(bytes, () => halfClose && socket.end());
  });
}

const head = (extra) =>
  `POST /oauth/token HTTP/1.1\r\nHost: 127.0.0.1:${PORT}\r\nContent-Type: application/x-www-form-urlencoded\r\nAuthorization: ${basic(APP.id, APP.secret)}\r\n${extra}\r\n`;

test('framing: a short body, a bad chunk and a stalled oversized chunked body', async () => {
  const short = await raw(head('Content-Length: 100\r\n') + 'grant_type=password', { halfClose: true });
  assert.match(short, /^HTTP\/1\.1 400 /, short);
  assert.match(short, /"error":"invalid_request"/);

  const badChunk = await raw(head('Transfer-Encoding: chunked\r\n') + 'zz\r\ngrant_type=password\r\n0\r\n\r\n', { halfClose: true });
  assert.match(badChunk, /^HTTP\/1\.1 400 /, badChunk);

  // 70 KiB in chunks, then the client stalls without the last chunk: 413 at once.
  const chunk = 'a'.repeat(8192);
  const body = Array.from({ length: 9 }, () => `${(8192).toString(16)}\r\n${chunk}\r\n`).join('');
  const started = Date.now();
  const big = await raw(head('Transfer-Encoding: chunked\r\n') + body, { ms: 5000 });
  assert.match(big, /^HTTP\/1\.1 413 /, big.slice(0, 200));
  assert.ok(Date.now() - started < 4000, 'answered before the client finished');
});

test('an unknown client_id is looked up the way a known one is (cached, absent)', async () => {
  const id = 'no-such-client';
  const unknown = await json(tokenRequest(issuer, { grant_type: 'client_credentials' }, { id, secret: 'late-secret' }));
  const known = await json(tokenRequest(issuer, { grant_type: 'client_credentials' }, { id: 'demo-m2m', secret: 'wrong' }));
  assert.deepEqual(unknown.body, known.body);
  assert.equal(unknown.status, 401);
  const kv = await issuer.kv();
  // The write-back runs after the response.
  let entry = null;
  for (let i = 0; i < 50 && entry === null; i++) {
    entry = await kv.get(`v5:client:${id}`, 'json');
    if (entry === null) await new Promise((r) => setTimeout(r, 20));
  }
  assert.deepEqual(entry, { client: null });
  // The absence is read from KV, like a known client: a client created in D1 meanwhile stays
  // unknown until the entry expires or is dropped.
  const now = Math.floor(Date.now() / 1000);
  await issuer.db
    .prepare("INSERT INTO clients (client_id, name, secret_hash, grant_types, default_audience, created_at, updated_at) VALUES (?1, 'late', ?2, '[\"client_credentials\"]', 'https://api.example.com', ?3, ?3)")
    .bind(id, `sha256:${await sha256('late-secret')}`, now)
    .run();
  await issuer.db
    .prepare("INSERT INTO client_grants (client_id, audience, scopes, created_at) VALUES (?1, 'https://api.example.com', '[\"read:data\"]', ?2)")
    .bind(id, now)
    .run();
  const cachedAbsent = await json(tokenRequest(issuer, { grant_type: 'client_credentials' }, { id, secret: 'late-secret' }));
  assert.equal(cachedAbsent.status, 401);
  await kv.delete(`v5:client:${id}`);
  const found = await json(tokenRequest(issuer, { grant_type: 'client_credentials' }, { id, secret: 'late-secret' }));
  assert.equal(found.status, 200, JSON.stringify(found.body));
  assert.equal(found.body.scope, 'read:data');
});

test('hundreds of parameters are refused with invalid_request', async () => {
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  for (let i = 0; i < 9300; i++) form.append(`p${i}`, '');
  const res = await json(
    issuer.fetch('/oauth/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('demo-m2m', 'dev-only-demo-m2m-secret') },
      body: form.toString(),
    }),
  );
  assert.equal(res.status, 400);
  assert.equal(res.body.error, 'invalid_request');
  assert.match(res.body.error_description, /too many parameters/);
});
