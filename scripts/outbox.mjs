// The local outbox of `make dev`: the email provider of the dev tenant is a webhook to this
// server, which checks each message's signature (X-Edge-Issuer-Signature, as hooks are
// signed) and keeps it, so every email flow can be finished by hand. Open it in a browser:
// each message with its links, newest first. The end-to-end tests use it as their receiver.
//
//   node scripts/outbox.mjs [--port 3001] [--issuer http://127.0.0.1:8787]
//
// With --issuer, it waits for the issuer to answer, then points the tenant's email provider
// at itself through the management API (as the seed's demo-admin, with a signing secret made
// for this run): the running issuer sends here from then on, without a restart. It also
// makes the passwordless `email` connection of the demo apps, so codes can be tried by hand.
//
// GET /            the messages, as a page
// GET /messages    the messages, as JSON (newest first)
// POST /hook       a message from the issuer (401 if the signature is wrong or stale)
import { createServer } from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';

/** Whether `header` signs `body` with `secret` within `toleranceSeconds` of now. */
export function signed(header, body, secret, toleranceSeconds = 300) {
  const parts = Object.fromEntries(String(header ?? '').split(',').map((p) => p.split('=')));
  const t = Number(parts.t);
  if (!Number.isFinite(t) || Math.abs(Date.now() / 1000 - t) > toleranceSeconds || !parts.v1) return false;
  const expected = createHmac('sha256', secret).update(`${t}.${body}`).digest();
  const given = Buffer.from(parts.v1, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const escape = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

function page(messages) {
  const items = messages.map((m) => `<article>
<h2>${escape(m.subject)}</h2>
<p class="meta">To <b>${escape(m.to)}</b> from ${escape(m.from)} · ${escape(m.template)} · ${escape(new Date(m.received).toLocaleString())}</p>
${m.link ? `<p><a class="link" href="${escape(m.link)}">${escape(m.link)}</a></p>` : ''}
${m.code ? `<p>Code: <b class="code">${escape(m.code)}</b></p>` : ''}
<details><summary>Plain text</summary><pre>${escape(m.text)}</pre></details>
</article>`).join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Outbox (${messages.length})</title>
<style>body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f4f5f7;color:#1b1d21}main{max-width:46rem;margin:2rem auto;padding:0 1rem}
article{background:#fff;border-radius:.5rem;box-shadow:0 1px 3px #0002;padding:1rem 1.25rem;margin:1rem 0}h1{font-size:1.4rem}h2{font-size:1.1rem;margin:0}
.meta{color:#4a505a;font-size:.875rem;margin:.25rem 0 .5rem}a.link{word-break:break-all}pre{white-space:pre-wrap;background:#f4f5f7;padding:.5rem}</style></head>
<body><main><h1>Outbox</h1><p>Messages the issuer sent while running locally, newest first. Reload to see new ones.</p>
${items || '<p>No messages yet.</p>'}</main></body></html>`;
}

/** Starts the outbox; resolves to `{server, messages, url}` once it listens. `secret` may be set later (`outbox.secret = …`). */
export function startOutbox({ port = 3001, secret } = {}) {
  const outbox = { messages: [], secret, server: null, url: '' };
  outbox.server = createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    if (req.method === 'POST' && path === '/hook') {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        if (!outbox.secret || !signed(req.headers['x-edge-issuer-signature'], body, outbox.secret)) {
          res.writeHead(401, { 'content-type': 'text/plain' });
          return res.end('bad signature');
        }
        outbox.messages.unshift({ ...JSON.parse(body), received: Date.now() });
        res.writeHead(204);
        res.end();
      });
      return;
    }
    if (req.method === 'GET' && path === '/messages') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      return res.end(JSON.stringify(outbox.messages));
    }
    if (req.method === 'GET' && path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
      return res.end(page(outbox.messages));
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  });
  return new Promise((resolve) =>
    outbox.server.listen(port, '127.0.0.1', () => {
      outbox.url = `http://127.0.0.1:${outbox.server.address().port}`;
      resolve(outbox);
    }),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name, fallback) => {
    const i = process.argv.indexOf(`--${name}`);
    return i > 0 ? process.argv[i + 1] : fallback;
  };
  const { randomBytes } = await import('node:crypto');
  const outbox = await startOutbox({ port: Number(arg('port', 3001)), secret: randomBytes(32).toString('base64url') });
  const issuer = arg('issuer');
  console.log(`outbox: ${outbox.url}/ shows the messages the issuer sends`);
  // The outbox keeps serving if the issuer cannot be configured; the reason is printed.
  if (issuer) await configure(issuer.replace(/\/+$/, ''), outbox).catch((e) => console.error(e.message));
}

/** Points the email provider of the issuer at `outbox` (custom webhook, its secret). */
export async function configure(issuer, outbox, { id = 'demo-admin', secret = 'dev-only-demo-admin-secret' } = {}) {
  const scope = 'read:email_provider create:email_provider update:email_provider create:connections';
  let token;
  for (let i = 0; i < 180 && !token; i++) {
    try {
      const res = await fetch(`${issuer}/oauth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', client_id: id, client_secret: secret, audience: `${issuer}/api/v2/`, scope }),
      });
      token = (await res.json()).access_token;
    } catch {}
    if (!token) await new Promise((r) => setTimeout(r, 1000));
  }
  if (!token) throw new Error(`outbox: no management token from ${issuer}`);
  const provider = { name: 'custom', enabled: true, default_from_address: 'no-reply@example.com', settings: { url: `${outbox.url}/hook` }, credentials: { secret: outbox.secret } };
  const call = (method) => fetch(`${issuer}/api/v2/emails/provider`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(provider),
  });
  let res = await call('PATCH');
  if (res.status === 404) res = await call('POST');
  if (!res.ok) throw new Error(`outbox: the issuer refused the provider: ${res.status} ${await res.text()}`);
  // Sign-in by emailed code for the demo apps (the login page's "Email me a code"); 409 when
  // an earlier run made it.
  const email = { name: 'email', strategy: 'email', display_name: 'Email code', enabled_clients: ['demo-spa', 'demo-web', 'demo-app'] };
  res = await fetch(`${issuer}/api/v2/connections`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(email),
  });
  if (!res.ok && res.status !== 409) throw new Error(`outbox: the issuer refused the email connection: ${res.status} ${await res.text()}`);
}
