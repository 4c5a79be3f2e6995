// Benchmark of the built Worker under workerd (Miniflare serving on loopback), printing:
//  - client_credentials (with no rules, two rules, one service-binding hook whose Worker runs
//    in the same workerd), password, refresh_token and authorization_code grants (and /authorize
//    answering from an SSO session), and a sign-in through an upstream OpenID provider (the
//    provider in this process): requests/s and p50/p99 latency over
//    a fixed request count, and the workerd CPU time per request (utime+stime of the workerd
//    processes / requests);
//  - the CPU cost of one ES256 signature inside the Worker (WebCrypto), from the CPU time of
//    a measurement route that signs N times, minus the same route signing 0 times, and of one
//    PBKDF2 at the password cost the same way (the password grant's floor);
//  - cold start: from starting workerd to the first token response;
//  - the deployable bundle's size, raw and gzip (from `wrangler deploy --dry-run`);
//  - a baseline Worker (bench/baseline-worker.mjs: form parsing, a Basic secret checked by
//    SHA-256, one ES256 WebCrypto signature) under the same workerd, measured the same way as
//    client_credentials, with the issuer's ratios to it;
//  - D1 round trips and KV reads per request of each grant, from `/__bench/counters`;
//  - the management API listing and searching users out of 1,000 (p50/p99, CPU);
//  - the Worker's startup CPU, profiled by `wrangler check startup`.
// Run with `make bench`. It is a measurement, not a test: it asserts nothing.
import autocannon from 'autocannon';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { createServer } from 'node:http';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { Miniflare } from 'miniflare';
import { startIssuer, basic, M2M, APP, USER, DEV_SEED, TEST_KEK } from '../tests/e2e/harness.mjs';
import { seedStatements } from './seed.mjs';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 5000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const PORT = Number(process.env.BENCH_PORT ?? 8799);
const PASSWORD_REQUESTS = Number(process.env.BENCH_PASSWORD_REQUESTS ?? 400);
const REFRESH_REQUESTS = Number(process.env.BENCH_REFRESH_REQUESTS ?? 2000);
const CODE_REQUESTS = Number(process.env.BENCH_CODE_REQUESTS ?? 800);
const SIGNATURES = 2000;
const MEMORY_TTL = 2;
const TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());

function workerdPids() {
  const out = execFileSync('ps', ['-eo', 'pid=,ppid=,comm=']).toString();
  const rows = out.trim().split('\n').map((l) => l.trim().split(/\s+/));
  const mine = new Set([String(process.pid)]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, ppid] of rows) if (mine.has(ppid) && !mine.has(pid)) (mine.add(pid), (grew = true));
  }
  return rows.filter(([pid, , comm]) => mine.has(pid) && comm.startsWith('workerd')).map(([pid]) => pid);
}

/** CPU seconds (user + system) used so far by the workerd processes under this one. */
function workerdCpu() {
  let ticks = 0;
  for (const pid of workerdPids()) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / TICKS;
}

async function load(url, opts) {
  const result = await autocannon({ url, connections: CONNECTIONS, amount: REQUESTS, ...opts });
  // autocannon ends a run on its 1-second tick, so requests / wall time is quantized (5,000
  // requests read as 2,500 or 1,667 per second); with a fixed number of connections each
  // waiting for its answer, throughput is connections / mean latency instead.
  result.rps = (CONNECTIONS * 1000) / result.latency.mean;
  return result;
}

/** Runs one scenario and returns throughput, latency and workerd CPU per request. */
async function scenario(url, opts) {
  const cpu0 = workerdCpu();
  const r = await load(url, opts);
  const cpu = workerdCpu() - cpu0;
  if (r.non2xx || r.errors) throw new Error(`${r.non2xx} non-2xx responses, ${r.errors} errors`);
  return { rps: r.rps, p50: r.latency.p50, p99: r.latency.p99, cpuUs: (cpu / r.requests.total) * 1e6 };
}

/** Runs one sequential chain per start value (`step` maps a value to the next), timing each. */
async function chains(starts, perChain, step) {
  const latencies = [];
  const cpu0 = workerdCpu();
  const t = performance.now();
  await Promise.all(
    starts.map(async (value) => {
      for (let i = 0; i < perChain; i++) {
        const s = performance.now();
        value = await step(value);
        latencies.push(performance.now() - s);
      }
    }),
  );
  const elapsed = performance.now() - t;
  const cpu = workerdCpu() - cpu0;
  latencies.sort((a, b) => a - b);
  const pct = (p) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))]);
  return { rps: (latencies.length / elapsed) * 1000, p50: pct(0.5), p99: pct(0.99), cpuUs: (cpu / latencies.length) * 1e6 };
}

/** The startup CPU `wrangler check startup` profiles for the deployable bundle ("Active"). */
function startupMs() {
  try {
    const out = execFileSync('npx', ['wrangler', 'check', 'startup', '--worker', 'bench-results/worker.bundle', '--outfile', 'bench-results/startup.cpuprofile'], {
      encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
    });
    return out.match(/Active:\s*([\d.]+)\s*ms/)?.[1] ?? `not found in: ${out.slice(-200)}`;
  } catch (e) {
    return `wrangler check startup failed: ${String(e.stderr ?? e).slice(-200)}`;
  }
}

const t0 = performance.now();
const HOOK_SECRET = 'bench-hook-secret';
const iss = await startIssuer({
  port: PORT,
  // The isolate's memory keeps clients and pipelines 2 s here, so a scenario that changes
  // the pipeline waits that long for it to show.
  bindings: { BENCH: '1', CACHE_TTL_SECONDS: String(MEMORY_TTL) },
  hookWorker: { scriptPath: new URL('../tests/e2e/hook-worker.mjs', import.meta.url).pathname, bindings: { HOOK_SECRET } },
});

/** Replaces the credentials-exchange rules and hooks, and drops their KV cache entry. */
async function setPipeline({ rules = [], hooks = [] }) {
  await iss.db.prepare("DELETE FROM rules WHERE trigger = 'credentials-exchange'").run();
  await iss.db.prepare('DELETE FROM hooks').run();
  for (const stmt of seedStatements({ rules, hooks }, { issuer: iss.issuer, kek: TEST_KEK })) await iss.db.prepare(stmt).run();
  await (await iss.kv()).delete('v5:pipeline:credentials-exchange');
  await new Promise((r) => setTimeout(r, MEMORY_TTL * 1000 + 100));
}
const ccRules = DEV_SEED.rules.filter((r) => r.trigger === 'credentials-exchange');
const twoRules = [
  ...ccRules,
  { rule_id: 'rul_bench', name: 'tier', trigger: 'credentials-exchange', position: 20,
    assignments: [{ target: 'access_token', claim: 'https://example.com/tier', value: 'gold' }] },
];
const hook = { hook_id: 'hk_bench', name: 'bench-hook', trigger: 'credentials-exchange', service: 'HOOKS', secret: HOOK_SECRET };
const tokenOpts = {
  method: 'POST',
  headers: {
    'content-type': 'application/x-www-form-urlencoded',
    authorization: basic(M2M.id, M2M.secret),
  },
  body: 'grant_type=client_credentials&audience=https%3A%2F%2Fapi.example.com',
};
/** D1 round trips and KV reads per request of `n` runs of `run`, from the isolate's counters. */
async function storageCalls(run, n = 20) {
  const counters = async () => (await fetch(`${iss.issuer}/__bench/counters`)).json();
  await run();
  const before = await counters();
  for (let i = 0; i < n; i++) await run();
  const after = await counters();
  return `${((after.d1_round_trips - before.d1_round_trips) / n).toFixed(1)} / ${((after.kv_reads - before.kv_reads) / n).toFixed(1)}`;
}
const first = await fetch(`${iss.issuer}/oauth/token`, tokenOpts);
const coldMs = performance.now() - t0;
if (first.status !== 200) throw new Error(`token request failed: ${first.status} ${await first.text()}`);

try {
  const tokenUrl = `${iss.issuer}/oauth/token`;
  // The baseline Worker under its own workerd (the issuer's idle meanwhile), measured just
  // before the issuer's client_credentials, alternating three times, so both see the same machine.
  const BASELINE_PORT = PORT + 1;
  const baselineMf = new Miniflare({
    host: '127.0.0.1', port: BASELINE_PORT, modules: true, compatibilityDate: '2026-07-01',
    scriptPath: new URL('../bench/baseline-worker.mjs', import.meta.url).pathname,
  });
  const baselineUrl = `http://127.0.0.1:${BASELINE_PORT}/oauth/token`;
  const baselineOpts = { ...tokenOpts, headers: { ...tokenOpts.headers, authorization: basic('baseline-m2m', 'baseline-secret') } };
  const best = (a, b) => (a.cpuUs <= b.cpuUs ? a : b);
  let baseline;
  let cc;
  try {
    await load(baselineUrl, { ...baselineOpts, amount: 500 });
    await setPipeline({});
    await load(tokenUrl, { ...tokenOpts, amount: 500 });
    for (let round = 0; round < 3; round++) {
      const b = await scenario(baselineUrl, baselineOpts);
      const c = await scenario(tokenUrl, tokenOpts);
      baseline = baseline ? best(baseline, b) : b;
      cc = cc ? best(cc, c) : c;
    }
  } finally {
    await baselineMf.dispose();
  }
  // Then two rules, and one service-binding hook.
  await setPipeline({ rules: twoRules });
  await load(tokenUrl, { ...tokenOpts, amount: 200 });
  const ccRules2 = await scenario(tokenUrl, tokenOpts);
  await setPipeline({ hooks: [hook] });
  await load(tokenUrl, { ...tokenOpts, amount: 200 });
  const ccHook = await scenario(tokenUrl, tokenOpts);
  await setPipeline({ rules: ccRules });

  // Password grant: its cost is the PBKDF2 hash (100,000 iterations).
  const passwordForm = new URLSearchParams({
    grant_type: 'password', username: USER.email, password: USER.password, scope: 'openid offline_access',
  }).toString();
  const passwordOpts = {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(APP.id, APP.secret) },
    body: passwordForm,
  };
  const pw = await scenario(tokenUrl, { ...passwordOpts, amount: PASSWORD_REQUESTS });

  // Refresh grant: every connection follows its own rotation chain, one login each.
  const pool = [];
  for (let i = 0; i < CONNECTIONS; i++) {
    const r = await fetch(tokenUrl, passwordOpts);
    pool.push((await r.json()).refresh_token);
  }
  // autocannon cannot carry a response into the next request, so these chains are plain loops.
  const rt = await chains(pool, REFRESH_REQUESTS / CONNECTIONS, async (token) => {
    const r = await fetch(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(APP.id, APP.secret) },
      body: `grant_type=refresh_token&refresh_token=${token}`,
    });
    const body = await r.json();
    if (r.status !== 200) throw new Error(`refresh failed: ${JSON.stringify(body)}`);
    return body.refresh_token;
  });

  // authorization_code: one browser sign-in (login form), then codes from its SSO session,
  // each redeemed by the confidential demo-web. Codes live 60 s, so each chain asks for its
  // next code and redeems it; /authorize and the exchange are timed apart.
  const WEB = { id: 'demo-web', secret: 'dev-only-demo-web-secret', callback: 'http://127.0.0.1:3001/callback' };
  const authorizeUrl = `${iss.issuer}/authorize?` + new URLSearchParams({
    response_type: 'code', client_id: WEB.id, redirect_uri: WEB.callback, scope: 'openid profile offline_access read:data', state: 's',
  });
  const cookieOf = (res) => res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const formPage = await fetch(authorizeUrl, { redirect: 'manual' });
  const hidden = new URLSearchParams();
  for (const m of (await formPage.text()).matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
    hidden.append(m[1], m[2].replaceAll('&amp;', '&'));
  }
  hidden.set('email', USER.email);
  hidden.set('password', USER.password);
  const signedIn = await fetch(`${iss.issuer}/u/login`, {
    method: 'POST', redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookieOf(formPage) },
    body: hidden.toString(),
  });
  if (signedIn.status !== 303) throw new Error(`sign-in failed: ${signedIn.status}`);
  const session = cookieOf(signedIn);
  const nextCode = async () => {
    const r = await fetch(authorizeUrl, { redirect: 'manual', headers: { cookie: session } });
    const code = new URL(r.headers.get('location')).searchParams.get('code');
    if (!code) throw new Error(`no code: ${r.headers.get('location')}`);
    return code;
  };
  const redeem = async (code) => {
    const r = await fetch(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(WEB.id, WEB.secret) },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: WEB.callback }).toString(),
    });
    const body = await r.json();
    if (r.status !== 200) throw new Error(`redemption failed: ${JSON.stringify(body)}`);
  };
  const perChain = CODE_REQUESTS / CONNECTIONS;
  const codeStarts = await Promise.all(Array.from({ length: CONNECTIONS }, nextCode));
  const authorizeSso = await chains(codeStarts, perChain, async () => nextCode());
  const codes = await Promise.all(Array.from({ length: CONNECTIONS }, async () => {
    const list = [];
    for (let i = 0; i < perChain; i++) list.push(await nextCode());
    return list;
  }));
  const exchangeCode = await chains(codes.map((list) => ({ list, i: 0 })), perChain, async (c) => {
    await redeem(c.list[c.i]);
    return { list: c.list, i: c.i + 1 };
  });

  // Upstream OpenID provider: a provider in this process (discovery, JWKS, and a token
  // endpoint that answers any code with a fresh ES256 ID token for the one transaction's
  // nonce), one /authorize?connection= to it, then its answer at /login/callback replayed
  // with the transaction's state and cookie: each one a whole sign-in (the code redeemed
  // upstream, the ID token verified, the user found by identity, session and code stored).
  // The provider's work is this process's, not workerd's; its calls are counted apart.
  const opKeys = await generateKeyPair('ES256');
  const opJwk = { ...(await exportJWK(opKeys.publicKey)), kid: 'bench-op', alg: 'ES256', use: 'sig' };
  let opNonce = '';
  const opCalls = { token: 0, jwks: 0 };
  const op = createServer(async (req, res) => {
    const opIssuer = `http://127.0.0.1:${op.address().port}`;
    const json = (v) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(v));
    if (req.url === '/.well-known/openid-configuration') {
      return json({ issuer: opIssuer, authorization_endpoint: `${opIssuer}/auth`, token_endpoint: `${opIssuer}/token`, jwks_uri: `${opIssuer}/jwks`, response_types_supported: ['code'], id_token_signing_alg_values_supported: ['ES256'] });
    }
    if (req.url === '/jwks') return (opCalls.jwks++, json({ keys: [opJwk] }));
    opCalls.token++;
    for await (const _ of req);
    const now = Math.floor(Date.now() / 1000);
    const idToken = await new SignJWT({ nonce: opNonce, email: 'upstream@example.com', email_verified: true, name: 'Upstream User' })
      .setProtectedHeader({ alg: 'ES256', kid: 'bench-op' })
      .setIssuer(opIssuer).setAudience('bench-client').setSubject('bench-user').setIssuedAt(now).setExpirationTime(now + 300)
      .sign(opKeys.privateKey);
    json({ access_token: 'op-at', token_type: 'Bearer', id_token: idToken });
  }).listen(0, '127.0.0.1');
  await new Promise((r) => op.once('listening', r));
  let upstreamSignIn;
  let upstreamCalls;
  let outboundPerSignIn;
  try {
    const adminToken = (await (await fetch(tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('demo-admin', 'dev-only-demo-admin-secret') },
      body: `grant_type=client_credentials&audience=${encodeURIComponent(`${iss.issuer}/api/v2/`)}`,
    })).json()).access_token;
    const made = await fetch(`${iss.issuer}/api/v2/connections`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'bench-op', strategy: 'oidc', options: { issuer: `http://127.0.0.1:${op.address().port}`, client_id: 'bench-client', client_secret: 'bench-secret' }, enabled_clients: [WEB.id] }),
    });
    if (made.status !== 201) throw new Error(`oidc connection: ${await made.text()}`);
    await new Promise((r) => setTimeout(r, MEMORY_TTL * 1000 + 100));
    const toProvider = await fetch(`${authorizeUrl}&connection=bench-op&nonce=n`, { redirect: 'manual' });
    const upstreamRequest = new URL(toProvider.headers.get('location')).searchParams;
    opNonce = upstreamRequest.get('nonce');
    const callbackUrl = `${iss.issuer}/login/callback/bench-op?` + new URLSearchParams({ code: 'any', state: upstreamRequest.get('state') });
    const binding = cookieOf(toProvider);
    const callback = async () => {
      const r = await fetch(callbackUrl, { redirect: 'manual', headers: { cookie: binding } });
      await r.arrayBuffer();
      if (r.status !== 302 || !r.headers.get('location').includes('code=')) throw new Error(`callback: ${r.status} ${r.headers.get('location')}`);
    };
    // The first sign-in makes the user; the measured ones are a returning user's. (Two first
    // sign-ins of one account at the same moment: one makes the user, the other is refused
    // as taken and succeeds when tried again.)
    await callback();
    upstreamSignIn = await chains(Array.from({ length: CONNECTIONS }, () => 0), CODE_REQUESTS / CONNECTIONS, async () => callback());
    const tokenCalls = opCalls.token;
    upstreamCalls = await storageCalls(callback);
    outboundPerSignIn = `${((opCalls.token - tokenCalls) / 21).toFixed(1)} token / ${opCalls.jwks} JWKS in all`;
  } finally {
    op.close();
  }

  // Management API: list users out of 1,000 (imported in one job), a middle page of 50 with
  // totals, and an app_metadata search.
  const admin = await (await fetch(tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic('demo-admin', 'dev-only-demo-admin-secret') },
    body: `grant_type=client_credentials&audience=${encodeURIComponent(`${iss.issuer}/api/v2/`)}`,
  })).json();
  const bearer = { authorization: `Bearer ${admin.access_token}` };
  const bulk = Array.from({ length: 1000 }, (_, i) => ({ email: `bench-${i}@example.com`, name: `Bench ${i}`, app_metadata: { plan: i % 10 === 0 ? 'gold' : 'free' } }));
  const imported = await fetch(`${iss.issuer}/api/v2/jobs/users-imports`, {
    method: 'POST', headers: { ...bearer, 'content-type': 'application/json' },
    body: JSON.stringify({ users: bulk, connection_id: 'Username-Password-Authentication' }),
  });
  if (imported.status !== 201) throw new Error(`import: ${await imported.text()}`);
  const listUsers = await scenario(`${iss.issuer}/api/v2/users?per_page=50&page=10&include_totals=true`, { headers: bearer, amount: 1000 });
  const searchUsers = await scenario(`${iss.issuer}/api/v2/users?q=${encodeURIComponent('app_metadata.plan:"gold"')}&per_page=50`, { headers: bearer, amount: 1000 });

  // Storage calls per request of each grant, warm (within the isolate's cache lifetime).
  const calls = {};
  const post = (opts) => async () => {
    const r = await fetch(tokenUrl, opts);
    const body = await r.json();
    if (r.status !== 200) throw new Error(JSON.stringify(body));
    return body;
  };
  calls.client_credentials = await storageCalls(post(tokenOpts));
  calls.password = await storageCalls(post(passwordOpts), 5);
  let chainToken = (await post(passwordOpts)()).refresh_token;
  calls.refresh_token = await storageCalls(async () => {
    chainToken = (await post({ ...passwordOpts, body: `grant_type=refresh_token&refresh_token=${chainToken}` })()).refresh_token;
  });
  const access = (await post(passwordOpts)()).access_token;
  calls['/userinfo'] = await storageCalls(async () => {
    const r = await fetch(`${iss.issuer}/userinfo`, { headers: { authorization: `Bearer ${access}` } });
    if (r.status !== 200) throw new Error(`userinfo: ${r.status}`);
    await r.arrayBuffer();
  });
  calls['authorize (SSO session)'] = await storageCalls(nextCode);
  const spare = [];
  for (let i = 0; i < 21; i++) spare.push(await nextCode());
  calls['authorization_code exchange'] = await storageCalls(() => redeem(spare.pop()));
  calls.jwks = await storageCalls(() => fetch(`${iss.issuer}/.well-known/jwks.json`).then((r) => r.arrayBuffer()));

  // invalid_client timing: an unknown client_id against a known one with a wrong secret,
  // interleaved sequential requests, median latency of each (they should not differ).
  const refusal = async (id) => {
    const t = performance.now();
    const r = await fetch(tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(id, 'wrong-secret') }, body: 'grant_type=client_credentials' });
    await r.arrayBuffer();
    if (r.status !== 401) throw new Error(`expected 401 for ${id}, got ${r.status}`);
    return performance.now() - t;
  };
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const unknownMs = [];
  const knownMs = [];
  for (let i = 0; i < 400; i++) {
    unknownMs.push(await refusal('bench-no-such-client'));
    knownMs.push(await refusal(M2M.id));
  }

  // One signature: route cost at n=SIGNATURES minus at n=0, five requests each.
  const signRuns = async (n) => {
    const c = workerdCpu();
    for (let i = 0; i < 5; i++) await (await fetch(`${iss.issuer}/__bench/sign?n=${n}`)).arrayBuffer();
    return workerdCpu() - c;
  };
  await signRuns(10);
  const base = await signRuns(0);
  const signed = await signRuns(SIGNATURES);
  const perSignatureUs = ((signed - base) / (5 * SIGNATURES)) * 1e6;
  // One PBKDF2 at the configured cost, the same way: the password grant's floor.
  const DERIVATIONS = 20;
  const pbkdf2Runs = async (n) => {
    const c = workerdCpu();
    for (let i = 0; i < 5; i++) await (await fetch(`${iss.issuer}/__bench/sign?op=pbkdf2&n=${n}`)).arrayBuffer();
    return workerdCpu() - c;
  };
  const perPbkdf2Us = ((await pbkdf2Runs(DERIVATIONS)) - (await pbkdf2Runs(0))) / (5 * DERIVATIONS) * 1e6;

  const bundleDir = 'bench-results/bundle';
  const files = readdirSync(bundleDir).filter((f) => /\.(js|wasm)$/.test(f));
  const raw = files.reduce((n, f) => n + statSync(join(bundleDir, f)).size, 0);
  const gz = files.reduce((n, f) => n + gzipSync(readFileSync(join(bundleDir, f)), { level: 9 }).length, 0);

  const line = (k, v) => console.log(`${k.padEnd(60)} ${v}`);
  console.log(`edge-issuer bench: ${REQUESTS} requests, ${CONNECTIONS} connections, loopback, workerd via Miniflare`);
  for (const [name, r, n] of [
    ['baseline Worker (Basic + one ES256 JWT, no storage), best of 3', baseline, REQUESTS],
    ['client_credentials, best of 3', cc, REQUESTS],
    ['client_credentials + 2 rules', ccRules2, REQUESTS],
    ['client_credentials + 1 hook (service binding)', ccHook, REQUESTS],
    ['password', pw, PASSWORD_REQUESTS],
    ['refresh_token', rt, REFRESH_REQUESTS],
    ['authorize (SSO session: a code at once)', authorizeSso, CODE_REQUESTS],
    ['authorization_code exchange', exchangeCode, CODE_REQUESTS],
    ['upstream OpenID provider sign-in (/login/callback)', upstreamSignIn, CODE_REQUESTS],
    ['management: list users, page 10 of 1,000 with totals', listUsers, 1000],
    ['management: search users by app_metadata (100 of 1,000)', searchUsers, 1000],
  ]) {
    line(`${name} (${n}) requests/s`, r.rps.toFixed(0));
    line(`${name} latency p50 / p99 (ms)`, `${r.p50} / ${r.p99}`);
    line(`${name} workerd CPU per request (µs)`, r.cpuUs.toFixed(0));
  }
  line('client_credentials / baseline: CPU per token', `${(cc.cpuUs / baseline.cpuUs).toFixed(2)}x`);
  line('client_credentials / baseline: requests/s', `${((cc.rps / baseline.rps) * 100).toFixed(0)}%`);
  line('client_credentials / baseline: p99', `${(cc.p99 / Math.max(baseline.p99, 1)).toFixed(2)}x`);
  line('refresh_token / client_credentials: CPU per request', `${(rt.cpuUs / cc.cpuUs).toFixed(2)}x`);
  calls['upstream sign-in (/login/callback)'] = upstreamCalls;
  for (const [name, v] of Object.entries(calls)) line(`${name}: D1 round trips / KV reads per request`, v);
  line('upstream sign-in: calls to the provider per request', outboundPerSignIn);
  line('added CPU per request: 2 rules / 1 hook (µs)', `${(ccRules2.cpuUs - cc.cpuUs).toFixed(0)} / ${(ccHook.cpuUs - cc.cpuUs).toFixed(0)}`);
  line('invalid_client median: unknown id / known id, wrong secret (ms)', `${median(unknownMs.slice(10)).toFixed(2)} / ${median(knownMs.slice(10)).toFixed(2)}`);
  line('ES256 signature inside the Worker (µs)', perSignatureUs.toFixed(1));
  line('one PBKDF2 at the password cost / password grant beyond it (µs)', `${perPbkdf2Us.toFixed(0)} / ${(pw.cpuUs - perPbkdf2Us).toFixed(0)}`);
  line('cold start to first token (ms)', coldMs.toFixed(0));
  line('Worker startup CPU, `wrangler check startup` (ms)', startupMs());
  line('bundle raw / gzip (KiB)', `${(raw / 1024).toFixed(1)} / ${(gz / 1024).toFixed(1)}`);
} finally {
  await iss.mf.dispose();
}
