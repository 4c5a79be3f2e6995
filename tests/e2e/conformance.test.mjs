// The storage ports' conformance suite (src/port/conformance/) against D1 under workerd, with
// the Worker's isolate and KV caches in front of the cached ports: the same cases SQLite passes
// natively (tests/conformance.rs), with D1's real concurrency. It runs on the
// test build (build-conformance/, the `conformance` feature): the deployed Worker has no such route.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startIssuer, APP, USER } from './harness.mjs';

let issuer;

before(async () => {
  issuer = await startIssuer({ bindings: { BENCH: '1' }, build: 'build-conformance' });
});
after(async () => {
  await issuer?.mf.dispose();
});

test('D1 keeps every storage port contract, twice over on the same database', async () => {
  for (const run of ['first', 'second']) {
    const res = await issuer.fetch(`/__bench/conformance?client_id=${APP.id}&user_id=${encodeURIComponent(USER.id)}&audience=${encodeURIComponent('https://api.example.com')}&run=${run}`);
    assert.equal(res.status, 200);
    const { outcomes } = await res.json();
    assert.equal(outcomes.length, 30);
    for (const o of outcomes) assert.equal(o.failure, null, `${run}: ${o.case}`);
  }
});
