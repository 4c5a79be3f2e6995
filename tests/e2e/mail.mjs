// What the email end-to-end tests share: the issuer with a client app to come back to, its
// email provider pointed at a local outbox (scripts/outbox.mjs, which checks signatures), the
// `auth0` SDK's AuthenticationClient as demo-app, and headless Chromium.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';
import { AuthenticationClient } from 'auth0';
import { APP, freePort, startIssuerWithApp } from './harness.mjs';
import { adminToken } from './management.mjs';
import { startOutbox } from '../../scripts/outbox.mjs';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const OUT = new URL('../../test-output/', import.meta.url).pathname;

/** Starts it all; `secret` signs the messages. Stop it with `stopMailTenant`. */
export async function startMailTenant(secret) {
  assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: make test installs Debian's chromium`);
  const { issuer, app, appOrigin } = await startIssuerWithApp(await freePort());
  const outbox = await startOutbox({ port: 0, secret });
  const token = await adminToken(issuer);
  const manage = (path, body) => issuer.fetch(path, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const provider = await manage('/api/v2/emails/provider', { name: 'custom', settings: { url: `${outbox.url}/hook` }, credentials: { secret }, default_from_address: 'auth@example.com' });
  assert.equal(provider.status, 201, await provider.text());
  const auth = new AuthenticationClient({
    domain: new URL(issuer.issuer).host,
    clientId: APP.id,
    clientSecret: APP.secret,
    fetch: (url, init) => issuer.mf.dispatchFetch(String(url).replace(/^https:/, 'http:'), init),
  });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  mkdirSync(OUT, { recursive: true });
  return { issuer, app, appOrigin, outbox, auth, browser, manage };
}

export async function stopMailTenant(t) {
  await t?.browser?.close();
  t?.outbox?.server.close();
  t?.app?.close();
  await t?.issuer?.mf.dispose();
}

/** The newest message to `to` of `template` received after `since`, waiting for it (it leaves after the response). */
export async function waitForMessage(outbox, to, template, since = 0) {
  for (let i = 0; i < 100; i++) {
    const found = outbox.messages.find((m) => m.to === to && m.template === template && m.received > since);
    if (found) return found;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no ${template} message to ${to}; have ${JSON.stringify(outbox.messages.map((m) => [m.to, m.template]))}`);
}
