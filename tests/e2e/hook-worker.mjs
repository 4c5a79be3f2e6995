// A hook receiver as a separate Worker, reached by the issuer over a service binding. It checks
// the issuer's signature (HMAC-SHA256 over "<t>.<body>") before answering, as a real receiver
// should. Its behaviour follows the client's metadata, so tests can steer it:
//   hook_mode "slow"    → answers after 3 s (longer than the hook's timeout)
//   hook_mode "set_sub" → tries to set `sub` (the issuer must drop it)
//   hook_mode "mfa"     → asks for a second factor until the sign-in proved one
//   otherwise           → copies client_metadata.urn into https://example.com/hook_urn
const enc = new TextEncoder();

async function expectedSignature(secret, t, body) {
  const key = await crypto.subtle.importKey('raw', enc.encode(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, enc.encode(`${t}.${body}`)));
  return [...mac].map((b) => b.toString(16).padStart(2, '0')).join('');
}

export default {
  async fetch(request, env) {
    const body = await request.text();
    const header = request.headers.get('x-edge-issuer-signature') ?? '';
    const parts = Object.fromEntries(header.split(',').map((p) => p.split('=')));
    const fresh = Math.abs(Date.now() / 1000 - Number(parts.t)) < 300;
    if (!fresh || parts.v1 !== (await expectedSignature(env.HOOK_SECRET, parts.t, body))) {
      return new Response('bad signature', { status: 401 });
    }
    const { event } = JSON.parse(body);
    const meta = event.client.client_metadata ?? {};
    if (meta.hook_mode === 'slow') await new Promise((r) => setTimeout(r, 3000));
    const claims = { 'https://example.com/hook_urn': meta.urn ?? null };
    if (meta.hook_mode === 'set_sub') claims.sub = 'attacker';
    if (meta.hook_mode === 'mfa') {
      const proven = (event.authentication?.methods ?? []).some((m) => m.name === 'mfa');
      return Response.json({ access_token: claims, multifactor: !proven });
    }
    return Response.json({ access_token: claims });
  },
};
