// A panic in the Worker (a route that exists only in the test build) is the issuer's own 500
// `server_error` for that request, and the next request is served by a fresh instance.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIssuer, tokenRequest } from './harness.mjs';

let issuer;

before(async () => {
  issuer = await startIssuer({ build: 'build-conformance', bindings: { BENCH: '1' } });
});
after(async () => {
  await issuer?.mf.dispose();
});

async function worksAfterwards() {
  const res = await tokenRequest(issuer, { grant_type: 'client_credentials' });
  assert.equal(res.status, 200);
  assert.ok((await res.json()).access_token);
}

for (const [when, query] of [['at once', ''], ['after a storage read', '?after=read']]) {
  test(`a panic ${when} answers 500 server_error and the next request works`, async () => {
    await worksAfterwards();
    const res = await issuer.fetch(`/__bench/panic${query}`);
    assert.equal(res.status, 500);
    assert.deepEqual(await res.json(), { error: 'server_error' });
    assert.equal(res.headers.get('cache-control'), 'no-store');
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    await worksAfterwards();
    await worksAfterwards();
  });
}

test('the deployed build has no panic route', async () => {
  const plain = await startIssuer({ bindings: { BENCH: '1' } });
  try {
    const res = await plain.fetch('/__bench/panic');
    assert.equal(res.status, 404);
  } finally {
    await plain.mf.dispose();
  }
});
