// The example SPA: sign in with the hosted login, show the user and the ID token's claims,
// get access tokens silently both ways (refresh token; hidden iframe with web_message), call
// /userinfo, edit the user's own user_metadata through the management API (no backend, no
// management secret: the user's own token with the self-service scopes), log out.
// Everything goes through @auth0/auth0-spa-js, unchanged.
(async () => {
  const { domain, clientId, audience } = window.EXAMPLE_CONFIG;
  const $ = (id) => document.getElementById(id);
  const show = (id, value) => ($(id).textContent = typeof value === 'string' ? value : JSON.stringify(value, null, 2));
  const authorizationParams = { redirect_uri: `${location.origin}/`, audience, scope: 'openid profile email offline_access read:data' };
  // Refresh tokens (rotation) for getTokenSilently; a second client without them shows the
  // iframe flow (prompt=none, response_mode=web_message) against the same session.
  const client = await auth0.createAuth0Client({ domain, clientId, authorizationParams, useRefreshTokens: true, cacheLocation: 'localstorage' });
  const iframeClient = await auth0.createAuth0Client({ domain, clientId, authorizationParams });
  const run = async (what, fn) => {
    try {
      show('result', { [what]: await fn() });
    } catch (e) {
      show('result', { [what]: 'failed', error: e.error ?? e.message, description: e.error_description });
    }
  };

  if (location.search.includes('code=') || location.search.includes('error=')) {
    try {
      await client.handleRedirectCallback();
    } catch (e) {
      show('result', { callback: 'failed', error: e.error ?? e.message, description: e.error_description });
    }
    history.replaceState({}, '', '/');
  }

  const signedIn = await client.isAuthenticated();
  show('status', signedIn ? 'Signed in' : 'Signed out');
  for (const id of ['silent-refresh', 'silent-iframe', 'userinfo', 'metadata', 'logout']) $(id).hidden = !signedIn;
  $('login').hidden = signedIn;
  if (signedIn) {
    show('profile', await client.getUser());
    show('claims', await client.getIdTokenClaims());
  }

  $('login').onclick = () => client.loginWithRedirect();
  $('silent-refresh').onclick = () =>
    run('refresh', async () => {
      const token = await client.getTokenSilently({ cacheMode: 'off' });
      return { access_token: `${token.slice(0, 24)}…`, refreshed: true };
    });
  $('silent-iframe').onclick = () =>
    run('iframe', async () => {
      const token = await iframeClient.getTokenSilently({ cacheMode: 'off' });
      return { access_token: `${token.slice(0, 24)}…`, via: 'web_message' };
    });
  $('userinfo').onclick = () =>
    run('userinfo', async () => {
      const token = await client.getTokenSilently();
      const res = await fetch(new URL('userinfo', domain.endsWith('/') ? domain : `${domain}/`), { headers: { authorization: `Bearer ${token}` } });
      return res.json();
    });
  // The user's own profile at the management API: a token for its audience with the
  // self-service scopes (from the session, through the hidden iframe), then GET and PATCH.
  $('metadata').onclick = () =>
    run('user_metadata', async () => {
      const base = domain.endsWith('/') ? domain : `${domain}/`;
      const token = await iframeClient.getTokenSilently({
        authorizationParams: { audience: `${base}api/v2/`, scope: 'read:current_user update:current_user_metadata' },
      });
      const me = new URL(`api/v2/users/${encodeURIComponent((await client.getUser()).sub)}`, base);
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
      const saved = await fetch(me, { method: 'PATCH', headers, body: JSON.stringify({ user_metadata: { theme: 'light', saved_at: new Date().toISOString() } }) });
      if (!saved.ok) return { status: saved.status, body: await saved.json() };
      return (await (await fetch(me, { headers })).json()).user_metadata;
    });
  $('logout').onclick = () => client.logout({ logoutParams: { returnTo: `${location.origin}/` } });
})();
