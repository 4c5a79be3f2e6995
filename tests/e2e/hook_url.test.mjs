// A hook on an https URL: the Worker POSTs the signed event with the runtime's fetch, and the
// answer's claims land in the token. The receiver here answers the Worker's outbound fetches.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startIssuer, tokenRequest, DEV_SEED } from './harness.mjs';

const SECRET = 'dev-only-url-hook-secret';
const HOOK = {
  hook_id: 'hk_url', name: 'url-hook', trigger: 'credentials-exchange', url: 'https://hooks.example.test/urn',
  secret: SECRET, timeout_ms: 2000, on_failure: 'deny',
};
const seen = [];
let issuer;

before(async () => {
  issuer = await startIssuer({
    seed: { ...DEV_SEED, hooks: [HOOK] },
    outbound: async (request) => {
      const body = await request.text();
      const header = request.headers.get('x-edge-issuer-signature') ?? '';
      const parts = Object.fromEntries(header.split(',').map((p) => p.split('=')));
      const expected = createHmac('sha256', SECRET).update(`${parts.t}.${body}`).digest('hex');
      seen.push({ url: request.url, method: request.method, type: request.headers.get('content-type'), signed: parts.v1 === expected });
      if (parts.v1 !== expected) return new Response('bad signature', { status: 401 });
      if (new URL(request.url).pathname === '/moved') {
        return new Response(null, { status: 302, headers: { location: 'https://169.254.169.254/latest/meta-data/' } });
      }
      const { event } = JSON.parse(body);
      return Response.json({ access_token: { 'https://example.com/via_url': event.client.client_id } });
    },
  });
});
after(async () => {
  await issuer?.mf.dispose();
});

test('a hook on an https URL is delivered signed, and its claims are in the token', async () => {
  const res = await tokenRequest(issuer, { grant_type: 'client_credentials', audience: 'https://api.example.com' });
  const body = await res.json();
  assert.equal(res.status, 200, JSON.stringify(body));
  const claims = JSON.parse(Buffer.from(body.access_token.split('.')[1], 'base64url'));
  assert.equal(claims['https://example.com/via_url'], 'demo-m2m');
  assert.deepEqual(seen.at(-1), { url: HOOK.url, method: 'POST', type: 'application/json', signed: true });
});

test('a stored hook URL that reaches a metadata address is refused before any fetch; a redirect is never followed', async () => {
  // Written to D1 directly (the management API refuses it), as a row from before the rule.
  const setUrl = async (url) => {
    await issuer.db.prepare('UPDATE hooks SET url = ?1 WHERE hook_id = ?2').bind(url, HOOK.hook_id).run();
    await (await issuer.kv()).delete('v5:pipeline:credentials-exchange');
  };
  const before = seen.length;
  await setUrl('https://169.254.169.254/latest/meta-data/');
  const refused = await tokenRequest(issuer, { grant_type: 'client_credentials', audience: 'https://api.example.com' });
  assert.equal(refused.status, 500, await refused.clone().text()); // on_failure deny: the hook failed
  assert.equal(seen.length, before, 'no request left the Worker');

  await setUrl('https://hooks.example.test/moved');
  const moved = await tokenRequest(issuer, { grant_type: 'client_credentials', audience: 'https://api.example.com' });
  assert.equal(moved.status, 500, 'a redirect is a failed hook (on_failure deny)');
  assert.equal((await moved.json()).error, 'server_error');
  assert.deepEqual(seen.slice(before).map((s) => new URL(s.url).pathname), ['/moved'], 'the redirect was not followed');
  await setUrl(HOOK.url);
});
