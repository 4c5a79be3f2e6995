// Auth0's SDK for regular web apps, `express-openid-connect`, with its documented minimal
// configuration (issuerBaseURL, baseURL, clientID, secret) and nothing else: it asks for
// `response_type=id_token&response_mode=form_post`, which a client allowed the implicit grant
// gets. The user agent is this test (a cookie jar over fetch); the issuer runs on workerd.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import express from 'express';
import { auth } from 'express-openid-connect';
import { DEV_SEED, freePort, hiddenFields, startIssuer, USER } from './harness.mjs';

const CLIENT = 'express-web';
let issuer;
let app;
let appOrigin;
let issuerOrigin;

before(async () => {
  const issuerPort = await freePort();
  let appPort = await freePort();
  while (appPort === issuerPort) appPort = await freePort();
  issuerOrigin = `http://127.0.0.1:${issuerPort}`;
  appOrigin = `http://127.0.0.1:${appPort}`;
  const client = {
    client_id: CLIENT,
    name: 'Express quickstart',
    client_secret: 'dev-only-express-secret',
    grant_types: ['implicit', 'authorization_code', 'refresh_token'],
    redirect_uris: [`${appOrigin}/callback`],
    allowed_logout_urls: [`${appOrigin}/`],
  };
  issuer = await startIssuer({ port: issuerPort, trailingSlash: true, seed: { ...DEV_SEED, clients: [...DEV_SEED.clients, client] } });
  const web = express();
  web.use(auth({ issuerBaseURL: issuerOrigin, baseURL: appOrigin, clientID: CLIENT, secret: 'a long, random string used to encrypt the session', authRequired: false }));
  web.get('/', (req, res) => res.json({ user: req.oidc.user ?? null }));
  await new Promise((resolve) => {
    app = web.listen(appPort, '127.0.0.1', resolve);
  });
});
after(async () => {
  app?.close();
  await issuer?.mf.dispose();
});

/** A cookie jar per origin, as a browser keeps one. */
class Jar {
  constructor() {
    this.cookies = new Map();
  }
  take(origin, res) {
    const jar = this.cookies.get(origin) ?? new Map();
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      const value = pair.slice(i + 1);
      if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(c)) jar.delete(pair.slice(0, i));
      else jar.set(pair.slice(0, i), value);
    }
    this.cookies.set(origin, jar);
  }
  header(origin) {
    return [...(this.cookies.get(origin) ?? new Map())].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  async fetch(url, init = {}) {
    const { origin } = new URL(url);
    const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers ?? {}), cookie: this.header(origin) } });
    this.take(origin, res);
    return res;
  }
}

test('express-openid-connect signs a user in with id_token and form_post, then logs out of the app and of the issuer', async () => {
  const browser = new Jar();
  const login = await browser.fetch(`${appOrigin}/login`);
  assert.equal(login.status, 302);
  const authorize = new URL(login.headers.get('location'));
  assert.equal(authorize.origin, issuerOrigin);
  assert.equal(authorize.searchParams.get('response_type'), 'id_token');
  assert.equal(authorize.searchParams.get('response_mode'), 'form_post');
  assert.ok(authorize.searchParams.get('nonce'));

  const page = await browser.fetch(authorize.href);
  assert.equal(page.status, 200, await page.clone().text());
  const form = hiddenFields(await page.text());
  form.set('email', USER.email);
  form.set('password', USER.password);
  const posted = await browser.fetch(`${issuerOrigin}/u/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
  });
  assert.equal(posted.status, 200, 'form_post answers a page that posts to the app');
  const html = await posted.text();
  assert.match(html, new RegExp(`action="${appOrigin}/callback"`));
  const response = hiddenFields(html);
  assert.ok(response.get('id_token'));
  assert.equal(response.get('code'), null);

  const callback = await browser.fetch(`${appOrigin}/callback`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: response.toString(),
  });
  assert.equal(callback.status, 302, await callback.clone().text());
  const home = await (await browser.fetch(`${appOrigin}/`)).json();
  assert.equal(home.user?.sub, USER.id);
  assert.equal(home.user?.email, USER.email);

  // The SDK's default logout ends the app's session only (idpLogout is off by default).
  const logout = await browser.fetch(`${appOrigin}/logout`);
  assert.equal(logout.status, 302);
  assert.equal(new URL(logout.headers.get('location'), appOrigin).href, `${appOrigin}/`);
  assert.equal((await (await browser.fetch(`${appOrigin}/`)).json()).user, null);
  // Ending the issuer's session too (what idpLogout: true sends): the ID token as hint, so
  // the issuer asks nothing and returns to the registered URL.
  const end = new URL(`${issuerOrigin}/oidc/logout`);
  end.searchParams.set('id_token_hint', response.get('id_token'));
  end.searchParams.set('post_logout_redirect_uri', `${appOrigin}/`);
  const ended = await browser.fetch(end.href);
  assert.equal(ended.status, 302, await ended.clone().text());
  assert.equal(ended.headers.get('location'), `${appOrigin}/`);
});
